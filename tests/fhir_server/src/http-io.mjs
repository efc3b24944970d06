// Reading request bodies and writing FHIR JSON answers on node:http.
import { getStatus } from '@medplum/core';

export const FHIR_CONTENT_TYPE = 'application/fhir+json; charset=utf-8';
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const JSON_CONTENT_TYPES = new Set(['', 'application/fhir+json', 'application/json', 'application/json-patch+json']);
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** An answer decided by the wrapper itself (not by Medplum's router): a status and an OperationOutcome. */
export class HttpProblem extends Error {
  constructor(status, code, text, headers = {}) {
    super(text);
    this.status = status;
    this.headers = headers;
    this.outcome = operationOutcome(code, text);
  }
}

export function operationOutcome(code, text, severity = 'error') {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

/**
 * Reads and parses a request body: JSON for FHIR resources and JSON Patch, form fields for
 * POST [type]/_search.
 * @returns {Promise<unknown>} The parsed body, or undefined when there is none.
 */
export async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpProblem(413, 'too-costly', `Request body larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) {
    return undefined;
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (contentType === FORM_CONTENT_TYPE) {
    return queryRecord(new URLSearchParams(text));
  }
  if (!JSON_CONTENT_TYPES.has(contentType)) {
    throw new HttpProblem(415, 'not-supported', `Unsupported content type "${contentType}": this server speaks JSON only`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, 'invalid', `Request body is not valid JSON: ${err.message}`);
  }
}

/** Query parameters as Medplum expects them: one string, or an array for a repeated name. */
export function queryRecord(searchParams) {
  const record = Object.create(null);
  for (const [name, value] of searchParams) {
    const existing = record[name];
    if (existing === undefined) {
      record[name] = value;
    } else if (Array.isArray(existing)) {
      existing.push(value);
    } else {
      record[name] = [existing, value];
    }
  }
  return record;
}

export function sendJson(res, status, body, headers = {}, contentType = FHIR_CONTENT_TYPE) {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(payload ? { 'Content-Type': contentType } : {}),
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendOutcome(res, outcome, status = getStatus(outcome), headers = {}) {
  sendJson(res, status, outcome, headers);
}
