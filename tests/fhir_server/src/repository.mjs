// Medplum's MemoryRepository with what a FHIR server adds on top: validation of every write,
// snapshots so that a failed transaction can be rolled back, knowledge of deleted ids, and an index on
// identifier (system|value) so that conditional creates (ifNoneExist) stay fast as the server fills up:
// the memory repository evaluates FHIRPath on every stored resource for every search.
import { Operator, validateResource } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';

export class TestServerRepository extends MemoryRepository {
  constructor() {
    super();
    /** resourceType -> "system|value" -> Set of ids whose current version carries that identifier */
    this.identifierIndex = new Map();
  }

  createResourceSync(resource, options, update = false) {
    const stored = super.createResourceSync(resource, options, update);
    this.unindex(stored.resourceType, stored.id);
    this.index(stored);
    return stored;
  }

  async deleteResource(resourceType, id, options) {
    await super.deleteResource(resourceType, id, options);
    this.unindex(resourceType, id);
  }

  async expungeResources(resourceType, ids) {
    await super.expungeResources(resourceType, ids);
    ids.forEach((id) => this.unindex(resourceType, id));
  }

  clear() {
    super.clear();
    this.identifierIndex.clear();
  }

  /** Answers ``identifier=system|value`` (alone, exact) from the index; everything else as the parent does. */
  searchSync(request) {
    const key = exactIdentifier(request);
    if (key === undefined) {
      return super.searchSync(request);
    }
    const ids = [...(this.identifierIndex.get(request.resourceType)?.get(key) ?? [])].sort();
    const current = this.resources.get(request.resourceType) ?? new Map();
    const matches = ids.filter((id) => current.has(id)).map((id) => current.get(id));
    let entry = matches.map((resource) => ({ search: { mode: 'match' }, resource: structuredClone(resource) }));
    if (request.offset !== undefined) {
      entry = entry.slice(request.offset);
    }
    if (request.count !== undefined) {
      entry = entry.slice(0, request.count);
    }
    return { resourceType: 'Bundle', type: 'searchset', entry: entry.length ? entry : undefined, total: matches.length };
  }

  index(resource) {
    let byKey = this.identifierIndex.get(resource.resourceType);
    if (!byKey) {
      byKey = new Map();
      this.identifierIndex.set(resource.resourceType, byKey);
    }
    // QuestionnaireResponse.identifier is a single Identifier; elsewhere it is a list.
    for (const { system, value } of [resource.identifier ?? []].flat()) {
      if (system && value) {
        const key = `${system}|${value}`;
        if (!byKey.has(key)) {
          byKey.set(key, new Set());
        }
        byKey.get(key).add(resource.id);
      }
    }
  }

  unindex(resourceType, id) {
    for (const ids of this.identifierIndex.get(resourceType)?.values() ?? []) {
      ids.delete(id);
    }
  }

  rebuildIndex() {
    this.identifierIndex.clear();
    for (const byId of this.resources.values()) {
      byId.forEach((resource) => this.index(resource));
    }
  }
  /** Validates against the R4 StructureDefinitions before storing (the memory repository does not). */
  async createResource(resource, options, update = false) {
    validateResource(resource);
    return super.createResource(resource, options, update);
  }

  /** Conditional create stores through a private path, so it is validated here too. */
  async conditionalCreate(resource, search, options) {
    validateResource(resource);
    return super.conditionalCreate(resource, search, options);
  }

  /** The parent reverses its stored history in place on every call; this reads a copy instead. */
  async readHistory(resourceType, id) {
    await this.readResource(resourceType, id);
    const versions = this.history.get(resourceType)?.get(id) ?? [];
    const entry = versions
      .slice()
      .reverse()
      .map((version) => ({ resource: structuredClone(version) }));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : undefined) };
  }

  /** @returns {boolean} Whether a current version of the resource exists. */
  exists(resourceType, id) {
    return this.resources.get(resourceType)?.has(id) ?? false;
  }

  /** @returns {boolean} Whether the resource existed once and has been deleted. */
  wasDeleted(resourceType, id) {
    return !this.exists(resourceType, id) && (this.history.get(resourceType)?.has(id) ?? false);
  }

  /**
   * Captures the current contents. Stored resources are never mutated in place (every write stores
   * a fresh object), so copying the maps and history arrays is enough.
   */
  snapshot() {
    return {
      resources: copyNestedMap(this.resources, (resource) => resource),
      history: copyNestedMap(this.history, (versions) => versions.slice()),
    };
  }

  /** Puts back the contents captured by {@link snapshot}. */
  restore(snapshot) {
    replaceContents(this.resources, copyNestedMap(snapshot.resources, (resource) => resource));
    replaceContents(this.history, copyNestedMap(snapshot.history, (versions) => versions.slice()));
    this.rebuildIndex();
  }
}

/** The ``system|value`` of a search that is exactly one unmodified identifier filter, else undefined. */
function exactIdentifier(request) {
  const filters = request.filters ?? [];
  if (filters.length !== 1 || request.sortRules?.length || request.include || request.revInclude) {
    return undefined;
  }
  const [{ code, operator, value }] = filters;
  if (code !== 'identifier' || operator !== Operator.EQUALS || typeof value !== 'string' || value.includes(',')) {
    return undefined;
  }
  const bar = value.indexOf('|');
  return bar > 0 && bar < value.length - 1 && value.indexOf('|', bar + 1) < 0 ? value : undefined;
}

function copyNestedMap(outer, copyValue) {
  const copy = new Map();
  for (const [key, inner] of outer) {
    copy.set(key, new Map([...inner].map(([id, value]) => [id, copyValue(value)])));
  }
  return copy;
}

function replaceContents(target, source) {
  target.clear();
  for (const [key, value] of source) {
    target.set(key, value);
  }
}
