#!/usr/bin/env bash
# Kontakt's benchmarks with their figures: the pure cores, and the call path against real
# Asterisk and Postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
$GO test -run '^$' -bench . -benchmem -benchtime 2000x ./test/e2e/ -bench 'ARIRoundTrip'
$GO test -run '^$' -bench 'StasisStartToGreeting' -benchtime 100x ./test/e2e/
$GO test -run '^$' -bench 'IVR' -benchtime 1x ./test/e2e/
$GO test -run '^$' -bench 'RecordingCPU' -benchtime 1x ./test/e2e/
$GO test -run '^$' -bench . -benchmem -benchtime 1s ./acd/... ./ivr/... ./agentd/... ./internal/... ./recording/...
