// Turns each HTTP request under the FHIR base path into one FhirRouter.handleRequest call against
// the single in-memory repository, and adds what a real server answers beyond the router: headers,
// paging, status codes (201 for update-as-create, 410 for a deleted resource), atomic transactions.
import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { getStatus, isOk, normalizeOperationOutcome, OperationOutcomeError } from '@medplum/core';
import { applyControl } from './faults.mjs';
import { HttpProblem, operationOutcome, queryRecord, readBody, sendJson, sendOutcome } from './http-io.mjs';
import { decorateSearchBundle, prepareSearchQuery } from './search.mjs';

export const FHIR_BASE_PATH = '/fhir';
const CONTROL_PREFIX = '/_control/';
const FHIR_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * @param {{router: object, repo: object, resourceTypes: string[], faults: object, queue: object,
 *   bearerToken?: string, capabilityStatement: (baseUrl: string) => object, log: (message: string) => void}} server
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>}
 */
export function createRequestHandler(server) {
  const knownTypes = new Set(server.resourceTypes);
  return async (req, res) => {
    try {
      await handle(server, knownTypes, req, res);
    } catch (err) {
      if (!(err instanceof HttpProblem || err instanceof OperationOutcomeError)) {
        server.log(`error: ${req.method} ${req.url}: ${err.stack ?? err}`);
      }
      if (res.headersSent) {
        res.destroy();
      } else if (err instanceof HttpProblem) {
        sendOutcome(res, err.outcome, err.status, err.headers);
      } else {
        sendOutcome(res, normalizeOperationOutcome(err));
      }
    }
  };
}

async function handle(server, knownTypes, req, res) {
  const host = req.headers.host ?? '127.0.0.1';
  const url = new URL(req.url ?? '/', `http://${host}`);
  if (url.pathname.startsWith(CONTROL_PREFIX)) {
    return handleControl(server, req, res, url);
  }
  if (url.pathname !== FHIR_BASE_PATH && !url.pathname.startsWith(`${FHIR_BASE_PATH}/`)) {
    throw new HttpProblem(404, 'not-found', `No FHIR endpoint here: the base URL is ${FHIR_BASE_PATH}`);
  }
  const baseUrl = `http://${host}${FHIR_BASE_PATH}`;
  const path = url.pathname.slice(FHIR_BASE_PATH.length).replace(/^\/+|\/+$/g, '');

  await injectFaults(server.faults, req, res);
  if (res.writableEnded || res.destroyed) {
    return;
  }
  if (!FHIR_METHODS.has(req.method)) {
    throw new HttpProblem(405, 'not-supported', `Method ${req.method} is not supported`);
  }
  const isMetadata = path === 'metadata';
  if (server.bearerToken && !isMetadata) {
    requireBearerToken(req, server.bearerToken);
  }
  if (isMetadata) {
    if (req.method !== 'GET') {
      throw new HttpProblem(405, 'not-supported', 'Only GET is supported on /metadata');
    }
    return sendJson(res, 200, server.capabilityStatement(baseUrl));
  }

  const segments = path ? path.split('/') : [];
  const resourceType = segments[0];
  if (resourceType && !resourceType.startsWith('$') && !knownTypes.has(resourceType)) {
    throw new HttpProblem(404, 'not-supported', `Unknown resource type "${resourceType}"`);
  }
  const request = {
    method: req.method,
    path,
    segments,
    resourceType,
    query: queryRecord(url.searchParams),
    body: await readBody(req),
    headers: req.headers,
    baseUrl,
  };
  const answer = await server.queue.run(() => execute(server, request));
  sendAnswer(res, request, answer);
}

async function handleControl(server, req, res, url) {
  if (req.method !== 'POST') {
    return sendJson(res, 405, { error: 'control endpoints take POST' }, {}, 'application/json');
  }
  const action = url.pathname.slice(CONTROL_PREFIX.length);
  const clearRepository = () => server.queue.run(async () => server.repo.clear());
  const { status, body } = await applyControl(action, url.searchParams, { faults: server.faults, clearRepository });
  server.log(`control: ${action} ${url.searchParams} -> ${status}`);
  sendJson(res, status, body, {}, 'application/json');
}

async function injectFaults(faults, req, res) {
  const delayMs = faults.takeDelayMs();
  if (delayMs > 0) {
    await sleep(delayMs);
  }
  const failure = faults.takeFailure();
  if (!failure) {
    return;
  }
  if (failure.status === 0) {
    req.socket.destroy();
    return;
  }
  const headers = failure.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(failure.retryAfterSeconds) };
  const code = failure.status === 429 ? 'throttled' : failure.status >= 500 ? 'transient' : 'processing';
  sendOutcome(res, operationOutcome(code, `Injected failure (HTTP ${failure.status})`), failure.status, headers);
}

function requireBearerToken(req, expected) {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const given = Buffer.from(match?.[1]?.trim() ?? '');
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new HttpProblem(401, 'login', 'Missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' });
  }
}

/** Runs one request through the router; called one request at a time (see SerialQueue). */
async function execute({ router, repo }, request) {
  const { method, segments, resourceType } = request;
  let { query, body } = request;
  const isTypeSearch =
    (method === 'GET' && segments.length === 1) || (method === 'POST' && segments.length === 2 && segments[1] === '_search');
  try {
    if (isTypeSearch) {
      query = prepareSearchQuery(resourceType, method === 'POST' ? { ...query, ...body } : query);
      if (method === 'POST') {
        body = query;
      }
    }
  } catch (err) {
    return { outcome: normalizeOperationOutcome(err) };
  }
  if (method === 'POST' && segments.length === 1 && isObject(body)) {
    // Like HAPI, the server assigns the id of a created resource.
    delete body.id;
  }
  const isTransaction = method === 'POST' && segments.length === 0 && body?.resourceType === 'Bundle' && body.type === 'transaction';
  const snapshot = isTransaction ? repo.snapshot() : undefined;
  const isInstanceUpdate = method === 'PUT' && segments.length === 2;
  const existedBefore = isInstanceUpdate ? repo.exists(resourceType, segments[1]) : true;

  const fhirRequest = {
    method,
    url: request.path,
    pathname: '',
    body,
    params: {},
    query,
    headers: request.headers,
    config: { transactions: true },
  };
  const [outcome, resource] = await router.handleRequest(fhirRequest, repo);
  if (snapshot && !isOk(outcome)) {
    repo.restore(snapshot);
  }
  const isInstanceRead = method === 'GET' && segments.length === 2;
  if (isInstanceRead && getStatus(outcome) === 404 && repo.wasDeleted(resourceType, segments[1])) {
    return { status: 410, outcome: operationOutcome('deleted', `${resourceType}/${segments[1]} has been deleted`) };
  }
  const status = isOk(outcome) && !existedBefore ? 201 : getStatus(outcome);
  return { status, outcome, resource, query, isTypeSearch };
}

function sendAnswer(res, request, { status, outcome, resource, query, isTypeSearch }) {
  const httpStatus = status ?? getStatus(outcome);
  if (httpStatus >= 400 || !isOk(outcome)) {
    return sendOutcome(res, outcome, httpStatus);
  }
  const headers = {};
  if (resource?.resourceType === 'Bundle') {
    prepareBundle(resource, request, query, isTypeSearch);
  } else if (resource?.meta?.versionId) {
    Object.assign(headers, versionHeaders(resource));
    const isCreate = request.method === 'POST' && request.segments.length === 1;
    if (httpStatus === 201 || isCreate) {
      headers.Location = `${request.baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
    }
  }
  const prefer = String(request.headers.prefer ?? '');
  const isWrite = request.method !== 'GET';
  if (isWrite && /return=minimal/.test(prefer)) {
    return sendJson(res, httpStatus, undefined, headers);
  }
  if (isWrite && /return=OperationOutcome/i.test(prefer)) {
    return sendJson(res, httpStatus, outcome, headers);
  }
  sendJson(res, httpStatus, resource ?? outcome, headers);
}

function prepareBundle(bundle, request, query, isTypeSearch) {
  if (bundle.type === 'searchset') {
    decorateSearchBundle(bundle, {
      baseUrl: request.baseUrl,
      resourceType: isTypeSearch ? request.resourceType : undefined,
      query,
    });
  } else if (bundle.type === 'transaction-response' || bundle.type === 'batch-response') {
    for (const entry of bundle.entry ?? []) {
      describeEntryResponse(entry);
    }
  }
}

/** Medplum writes entry statuses as "201"; HAPI as "201 Created". Both are valid R4. */
function describeEntryResponse(entry) {
  const response = entry?.response;
  if (!response) {
    return;
  }
  if (/^\d{3}$/.test(response.status) && STATUS_CODES[response.status]) {
    response.status = `${response.status} ${STATUS_CODES[response.status]}`;
  }
  const meta = entry.resource?.meta;
  if (meta?.versionId && response.status.startsWith('2')) {
    response.etag = `W/"${meta.versionId}"`;
    response.lastModified = meta.lastUpdated;
  }
}

function versionHeaders(resource) {
  const headers = { ETag: `W/"${resource.meta.versionId}"` };
  if (resource.meta.lastUpdated) {
    headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  }
  return headers;
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
