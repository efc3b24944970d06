// What the wrapper adds to Medplum's type-level search so that it pages like HAPI: a default and
// a maximum page size, fullUrl on every entry, self/next/previous links, and a 400 for a search
// parameter the resource type does not define (the memory repository would match nothing).
import { badRequest, globalSchema, OperationOutcomeError, parseSearchRequest } from '@medplum/core';

// HAPI FHIR's defaults (hapi.fhir.default_page_size / max_page_size).
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 200;

/**
 * Checks a type-level search and fixes its page size.
 * @param {string} resourceType
 * @param {Record<string, string | string[]>} query - The parsed query parameters.
 * @returns {Record<string, string | string[]>} The query to run.
 * @throws {OperationOutcomeError} For an unknown search parameter or a bad _count.
 */
export function prepareSearchQuery(resourceType, query) {
  const searchRequest = parseSearchRequest(resourceType, query);
  const known = globalSchema.types[resourceType]?.searchParams ?? {};
  for (const filter of searchRequest.filters ?? []) {
    const name = filter.code.split(/[:.]/)[0];
    if (!(name in known)) {
      throw new OperationOutcomeError(
        badRequest(`Unknown search parameter "${name}" for resource type "${resourceType}"`, name)
      );
    }
  }
  const offset = lastValue(query._offset);
  if (offset !== undefined && !/^\d+$/.test(offset)) {
    throw new OperationOutcomeError(badRequest(`_offset must be a non-negative integer, not "${offset}"`, '_offset'));
  }
  // _summary=count asks for the total only (Medplum reads it as a page size of 0).
  const totalOnly = searchRequest.count === 0 && query._count === undefined;
  return totalOnly ? { ...query } : { ...query, _count: String(pageSize(lastValue(query._count))) };
}

function pageSize(requested) {
  if (requested === undefined) {
    return DEFAULT_PAGE_SIZE;
  }
  if (!/^\d+$/.test(requested)) {
    throw new OperationOutcomeError(badRequest(`_count must be a non-negative integer, not "${requested}"`, '_count'));
  }
  return Math.min(Number(requested), MAX_PAGE_SIZE);
}

/**
 * Adds fullUrl to each entry and, for a type-level search, paging links.
 * @param {object} bundle - The searchset Bundle from the repository (modified in place).
 * @param {{baseUrl: string, resourceType?: string, query: Record<string, string | string[]>}} request
 */
export function decorateSearchBundle(bundle, { baseUrl, resourceType, query }) {
  bundle.entry = bundle.entry?.map(({ resource, ...rest }) => ({
    ...(resource?.id ? { fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}` } : {}),
    resource,
    ...rest,
  }));
  if (!resourceType) {
    return;
  }
  const count = Number(lastValue(query._count) ?? 0);
  const offset = Number(lastValue(query._offset) ?? 0);
  const pageUrl = (pageOffset) => searchUrl(baseUrl, resourceType, { ...query, _offset: String(pageOffset) });
  const links = [{ relation: 'self', url: searchUrl(baseUrl, resourceType, query) }];
  if (count > 0 && bundle.total !== undefined && offset + count < bundle.total) {
    links.push({ relation: 'next', url: pageUrl(offset + count) });
  }
  if (count > 0 && offset > 0) {
    links.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
  }
  bundle.link = links;
}

function searchUrl(baseUrl, resourceType, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      params.append(name, item);
    }
  }
  const queryString = params.toString();
  return `${baseUrl}/${resourceType}${queryString ? `?${queryString}` : ''}`;
}

function lastValue(value) {
  return Array.isArray(value) ? value.at(-1) : value;
}
