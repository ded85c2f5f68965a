#!/usr/bin/env bash
# Every Kontakt test: formatting, vet, unit and store tests, then the end-to-end tests against
# real Asterisk and Postgres (their names printed). Used by `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
start=$(date +%s)

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:"; echo "$unformatted"; exit 1
fi
$GO vet ./...

echo "== agent page: build, type check, Vitest (embedded by the builds below)"
bash agentd/web/build.sh

echo "== unit, store and component tests"
$GO test -count=1 -timeout 20m $($GO list ./... | grep -v -e '^kontakt/test/' -e '^kontakt/agentd/media$')
# The WebRTC relay's tests run alone: under the load of the other packages' tests one ICE-restart
# case has been seen to stall (about 1 run in 10), a flake still to be found.
$GO test -count=1 -timeout 10m ./agentd/media

echo "== end-to-end tests (real Asterisk + Postgres)"
set +e
$GO test -count=1 -timeout 30m -v ./test/... 2>&1 | tee artifacts-e2e.log |
  grep --line-buffered -E '^(=== RUN|--- (PASS|FAIL|SKIP)|PASS|FAIL|ok |panic|\s+\S+_test\.go:[0-9]+: )' |
  grep --line-buffered -v 'log_test.go'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "end-to-end tests failed; the full log is in artifacts-e2e.log"; exit "$status"
fi
rm -f artifacts-e2e.log
echo "== all tests passed in $(( $(date +%s) - start ))s"
