#!/usr/bin/env bash
# Installs everything the tests need into the active Python environment, then runs them: ruff, the
# import contract (lint-imports, [tool.importlinter] in pyproject.toml), then pytest.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt -r requirements-dev.txt

# Debian packages the tests drive: Chromium for the browser tests (never a downloaded browser) and
# nginx for the deployment tests (deploy/run_local.sh). nginx is found in /usr/sbin, not always on PATH.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then as_root() { "$@"; }; else as_root() { sudo "$@"; }; fi
    as_root apt-get update -qq
    # Without an init system (containers, CI) the nginx package starts no service. Where it does start
    # the system's nginx (on port 80), the tests are unaffected: they run their own nginx, with the
    # repository's config, on free loopback ports.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

ruff check .
lint-imports --no-logo
python -m pytest "$@"
