// Medplum's MemoryRepository with what a FHIR server adds on top: validation of every write,
// snapshots so that a failed transaction can be rolled back, and knowledge of deleted ids.
import { validateResource } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';

export class TestServerRepository extends MemoryRepository {
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
  }
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
