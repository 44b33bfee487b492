#!/usr/bin/env bash
# Audit the pinned dependencies for known vulnerabilities (pip-audit 2.10.1, in its own
# throwaway virtual environment so that it does not join the product's dependencies).
#   bash scripts/audit.sh
# pip-audit asks a vulnerability service (PyPI's JSON API, or OSV with -s osv): run it
# where that service is reachable.  The CI machine of this project reaches the package
# registries only, which do not serve vulnerability data, so CI cannot run this step;
# see docs/development.md ("Dependency audit").
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "run scripts/test.sh first (it makes .venv)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check pip-audit==2.10.1
.venv/bin/pip freeze --exclude-editable > "$tmp/requirements.txt"
exec "$tmp/venv/bin/pip-audit" --strict --progress-spinner off -r "$tmp/requirements.txt" "$@"
