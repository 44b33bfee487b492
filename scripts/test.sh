#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian/Ubuntu machine, then run it:
# Debian's chromium (driven by Playwright, no browser download) and the PostgreSQL
# server binaries (the tests start their own throwaway cluster on 127.0.0.1),
# a virtual environment with the pinned test dependencies, then lint, types, tests.
# Extra arguments go to pytest:  bash scripts/test.sh -k collect
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check webleads tests bench
.venv/bin/mypy
export WEBLEADS_REQUIRE_PG=1 WEBLEADS_REQUIRE_BROWSER=1
exec .venv/bin/pytest "$@"
