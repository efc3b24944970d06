// The CapabilityStatement served at GET [base]/metadata (Medplum's router has no such route).
import { globalSchema } from '@medplum/core';

const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'];
const SYSTEM_INTERACTIONS = ['transaction', 'batch', 'search-system'];

/**
 * Builds an R4 CapabilityStatement describing this server.
 * @param {{resourceTypes: string[], baseUrl: string, date: string, engineVersion: string, bearerTokenRequired: boolean}} description
 * @returns {object} The CapabilityStatement resource.
 */
export function buildCapabilityStatement({ resourceTypes, baseUrl, date, engineVersion, bearerTokenRequired }) {
  const rest = {
    mode: 'server',
    documentation: 'In-memory test server: every restart starts empty.',
    resource: resourceTypes.map(describeResourceType),
    interaction: SYSTEM_INTERACTIONS.map((code) => ({ code })),
  };
  if (bearerTokenRequired) {
    rest.security = {
      description: 'Requests other than GET /metadata need an "Authorization: Bearer" header.',
    };
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    publisher: 'stratcare',
    kind: 'instance',
    software: { name: 'stratcare FHIR test server (Medplum fhir-router)', version: engineVersion },
    implementation: { description: 'stratcare FHIR test server', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [rest],
  };
}

function describeResourceType(type) {
  return {
    type,
    interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchParam: describeSearchParameters(type),
  };
}

function describeSearchParameters(type) {
  const parameters = globalSchema.types[type]?.searchParams ?? {};
  return Object.entries(parameters)
    .filter(([, parameter]) => !parameter.url?.includes('medplum.com'))
    .map(([name, parameter]) => ({ name, definition: parameter.url, type: parameter.type }))
    .filter((parameter) => parameter.type !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}
