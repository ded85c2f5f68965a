// Package testenv gives tests Kontakt's real components: a Postgres cluster (a database per
// test binary, a transaction per test rolled back at cleanup) and the whole stack. Under CI=true
// a missing component fails the test run; elsewhere it skips with a message saying what to
// install.
package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/internal/stack"
	"kontakt/internal/store"
)

// Require fails (CI=true) or skips the test when a component of the stack is not installed.
func Require(t testing.TB) {
	t.Helper()
	if m := stack.Missing(); len(m) > 0 {
		msg := "not installed: " + strings.Join(m, ", ") + " (run scripts/install-deps.sh or make test)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and " + msg)
		}
		t.Skip(msg)
	}
}

// RequireMain is Require for TestMain: it returns a non-empty reason to skip, or exits under CI.
func RequireMain() (skip string) {
	if m := stack.Missing(); len(m) > 0 {
		msg := "not installed: " + strings.Join(m, ", ") + " (run scripts/install-deps.sh or make test)"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL: CI=true and "+msg)
			os.Exit(1)
		}
		return msg
	}
	return ""
}

var (
	pgOnce sync.Once
	pg     *stack.Postgres
	pgDir  string
	pgErr  error
)

// Postgres returns the test binary's Postgres cluster, starting it on first use. Call
// StopPostgres from TestMain after m.Run.
func Postgres(t testing.TB) *stack.Postgres {
	t.Helper()
	Require(t)
	pgOnce.Do(func() {
		pgDir, pgErr = os.MkdirTemp("", "kontakt-pg-")
		if pgErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pg, pgErr = stack.StartPostgres(ctx, pgDir, 0, nil)
	})
	if pgErr != nil {
		t.Fatalf("postgres: %v", pgErr)
	}
	return pg
}

// StopPostgres stops the cluster started by Postgres, if any, and removes its files.
func StopPostgres() {
	if pg != nil {
		pg.Stop()
	}
	if pgDir != "" {
		os.RemoveAll(pgDir)
	}
}

var (
	dbMu    sync.Mutex
	dbPools = map[string]*pgxpool.Pool{}
)

// DB returns a pool on a migrated database named name (created once per test binary).
func DB(t testing.TB, name string) *pgxpool.Pool {
	t.Helper()
	p := Postgres(t)
	dbMu.Lock()
	defer dbMu.Unlock()
	if pool, ok := dbPools[name]; ok {
		return pool
	}
	ctx := context.Background()
	if err := p.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	pool, err := store.Open(ctx, p.URL(name), 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	dbPools[name] = pool
	return pool
}

// Tx returns a transaction on the test binary's database, rolled back when the test ends.
func Tx(t testing.TB) pgx.Tx {
	t.Helper()
	pool := DB(t, "kontakt_test")
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	return tx
}
