// stratcare's FHIR R4 test server: Medplum's FHIR engine (FhirRouter + MemoryRepository) behind a
// plain node:http server. In memory only, for integration tests; see README.md.
//
// Usage: node server.mjs [--port N] [--host 127.0.0.1] [--verbose]
//   --port / FHIR_SERVER_PORT    port to listen on; 0 picks a free one (default 8080)
//   --host / FHIR_SERVER_HOST    address to bind (default 127.0.0.1)
//   STRATCARE_FHIR_SERVER_TOKEN  when set, every request but GET /metadata needs this bearer token
// Prints "FHIR server listening on http://HOST:PORT/fhir" on stdout once it answers requests.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const MINIMUM_NODE = [22, 18];

function main() {
  requireNodeVersion();
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.FHIR_SERVER_PORT ?? '8080' },
      host: { type: 'string', default: process.env.FHIR_SERVER_HOST ?? '127.0.0.1' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`invalid port: ${values.port}`);
  }
  return start({ port, host: values.host, verbose: values.verbose });
}

async function start({ port, host, verbose }) {
  const startedAt = performance.now();
  // Imported only after the Node version check: Medplum 5 needs Node >= 22.18.
  const [{ createServer }, { FhirRouter }, { buildCapabilityStatement }, { indexDefinitions }, { FaultInjector },
    { createRequestHandler, FHIR_BASE_PATH }, { TestServerRepository }, { SerialQueue }] = await Promise.all([
    import('node:http'),
    import('@medplum/fhir-router'),
    import('./src/capability.mjs'),
    import('./src/definitions.mjs'),
    import('./src/faults.mjs'),
    import('./src/fhir-handler.mjs'),
    import('./src/repository.mjs'),
    import('./src/serial-queue.mjs'),
  ]);
  const log = (message) => process.stderr.write(`[fhir-server] ${message}\n`);
  const resourceTypes = indexDefinitions();
  const bearerToken = process.env.STRATCARE_FHIR_SERVER_TOKEN || undefined;
  const date = new Date().toISOString();
  const engineVersion = readEngineVersion();
  const capabilityStatements = new Map();
  const capabilityStatement = (baseUrl) => {
    if (!capabilityStatements.has(baseUrl)) {
      capabilityStatements.set(
        baseUrl,
        buildCapabilityStatement({ resourceTypes, baseUrl, date, engineVersion, bearerTokenRequired: Boolean(bearerToken) })
      );
    }
    return capabilityStatements.get(baseUrl);
  };
  const handler = createRequestHandler({
    router: new FhirRouter(),
    repo: new TestServerRepository(),
    resourceTypes,
    faults: new FaultInjector(),
    queue: new SerialQueue(),
    bearerToken,
    capabilityStatement,
    log: verbose ? log : (message) => message.startsWith('error') && log(message),
  });
  const server = createServer((req, res) => {
    if (verbose) {
      res.on('finish', () => log(`${req.method} ${req.url} -> ${res.statusCode}`));
    }
    handler(req, res);
  });
  server.on('error', (err) => fail(`cannot listen on ${host}:${port}: ${err.message}`));
  server.listen(port, host, () => {
    const { port: boundPort } = server.address();
    const hostInUrl = host.includes(':') ? `[${host}]` : host;
    log(
      `Medplum ${engineVersion}, ${resourceTypes.length} resource types, ` +
        `ready in ${Math.round(performance.now() - startedAt)} ms` +
        (bearerToken ? '; bearer token required' : '')
    );
    process.stdout.write(`FHIR server listening on http://${hostInUrl}:${boundPort}${FHIR_BASE_PATH}\n`);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
      setTimeout(() => process.exit(0), 2000).unref();
    });
  }
}

function requireNodeVersion() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
    fail(`Node >= ${MINIMUM_NODE.join('.')} is needed, this is ${process.versions.node} (run install.sh and use its Node)`);
  }
}

function readEngineVersion() {
  try {
    const url = new URL('./node_modules/@medplum/fhir-router/package.json', import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function fail(message) {
  process.stderr.write(`[fhir-server] ${message}\n`);
  process.exit(1);
}

main();
