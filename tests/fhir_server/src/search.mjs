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
  const prepared = { ...query };
  const count = lastValue(query._count);
  if (count === undefined) {
    prepared._count = String(DEFAULT_PAGE_SIZE);
  } else if (!/^\d+$/.test(count)) {
    throw new OperationOutcomeError(badRequest(`_count must be a non-negative integer, not "${count}"`, '_count'));
  } else if (Number(count) > MAX_PAGE_SIZE) {
    prepared._count = String(MAX_PAGE_SIZE);
  }
  const offset = lastValue(query._offset);
  if (offset !== undefined && !/^\d+$/.test(offset)) {
    throw new OperationOutcomeError(badRequest(`_offset must be a non-negative integer, not "${offset}"`, '_offset'));
  }
  return prepared;
}

/**
 * Adds fullUrl to each entry and, for a type-level search, paging links.
 * @param {object} bundle - The searchset Bundle from the repository (modified in place).
 * @param {{baseUrl: string, resourceType?: string, query: Record<string, string | string[]>}} request
 */
export function decorateSearchBundle(bundle, { baseUrl, resourceType, query }) {
  for (const entry of bundle.entry ?? []) {
    if (entry.resource?.id) {
      entry.fullUrl = `${baseUrl}/${entry.resource.resourceType}/${entry.resource.id}`;
    }
  }
  if (!resourceType) {
    return;
  }
  const count = Number(lastValue(query._count) ?? DEFAULT_PAGE_SIZE);
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
