#!/usr/bin/env bash
# Installs the FHIR test server's npm dependencies (Medplum's engine and a Node 22 binary) into
# ./node_modules. Idempotent: a stamp records the hash of package.json and package-lock.json, so a
# second run with nothing changed returns at once. A lock keeps concurrent test processes from
# running npm at the same time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

stamp="node_modules/.stratcare-install-stamp"

manifest_hash() {
  cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1
}

is_installed() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$(manifest_hash)" ]]
}

if is_installed; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm is needed to install the FHIR test server" >&2
  exit 1
fi

exec 9>"${TMPDIR:-/tmp}/stratcare-fhir-server-install-$(printf '%s' "$here" | sha256sum | cut -c1-16).lock"
flock 9
if is_installed; then
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# npm runs on whatever Node the machine has; the Medplum packages declare Node >= 22.18 for the
# server itself, which runs on the Node binary installed here, so engine warnings are expected.
if [[ -f package-lock.json ]]; then
  npm_command=(npm ci)
else
  npm_command=(npm install)
fi
if ! "${npm_command[@]}" --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  cat "$log" >&2
  echo "install.sh: ${npm_command[*]} failed" >&2
  exit 1
fi
manifest_hash >"$stamp"
echo "install.sh: FHIR test server dependencies installed in $here/node_modules" >&2
