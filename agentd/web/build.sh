#!/usr/bin/env bash
# Builds the agent page: npm ci, type check + Vite build into dist/, the Vitest tests (unless
# SKIP_TESTS=1), then copies dist/ into static/, which embed.go embeds in the kontakt binary.
# Run it before `go build` (the Makefile does); without it the binary serves a placeholder page.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "agentd/web/build.sh: npm is needed (Debian: apt-get install -y nodejs npm)" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  npx vitest run
fi
# Replace the previous build in static/, keeping the committed placeholder.
find static -mindepth 1 -maxdepth 1 ! -name placeholder.html ! -name .gitignore -exec rm -rf {} +
cp -R dist/. static/
echo "agentd/web: page built into agentd/web/static (embedded by the next go build)"
