# Kontakt — the two commands a newcomer needs:
#   make demo   installs what is missing, starts Postgres + Asterisk + kontakt with demo data
#   make test   runs every test, the end-to-end ones against real Asterisk and Postgres included
SHELL := /bin/bash
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN := bin/kontakt
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X kontakt/internal/app.Version=$(VERSION)

.PHONY: all build web deps demo test check bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kontakt

# The agent page (Preact + Vite), embedded in the binary by the next build.
web:
	SKIP_TESTS=1 bash agentd/web/build.sh

deps:
	bash scripts/install-deps.sh

demo: deps web build
	./$(BIN) demo

test: deps
	GO=$(GO) bash scripts/test.sh

# Formatting and vet only (fast).
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

bench: deps
	GO=$(GO) bash scripts/bench.sh

clean:
	rm -rf bin .runtime artifacts
