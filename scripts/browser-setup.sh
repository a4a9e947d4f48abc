#!/usr/bin/env bash
# Installs what the review page's browser test needs, once: Debian's chromium (the test drives
# it headless with software WebGL) and the npm packages of scripts/web (playwright-core, and
# NiiVue, which build.rs also bundles). Safe to run again; prints the chromium path.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  fi
fi
if [ ! -d scripts/web/node_modules/playwright-core ] || [ ! -d scripts/web/node_modules/@niivue/niivue ]; then
  (cd scripts/web && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
command -v chromium
