// Command kontakt is the 19115 contact center: `kontakt serve` runs it; the other subcommands
// set it up, place test calls and help operators. Run `kontakt help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"kontakt/internal/config"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands are the subcommands; files add theirs in init.
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kontakt: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "kontakt %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kontakt — the 19115 citizen contact center (Asterisk ARI controller, Postgres, browser agents)

Usage: kontakt COMMAND [flags]    (kontakt COMMAND -h for a command's flags)

Commands:
`)
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Getting started: "make demo" starts Postgres, Asterisk and kontakt with demo data and prints how
to place a test call; "make test" runs every test. Configuration is a JSON file (-config); see
README.md for the keys. Secrets can come from files (ari.password_file, database.url_file).
`)
}

// flagSet returns a FlagSet that reports errors instead of exiting.
func flagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kontakt %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// loadConfig loads the configuration file (or only defaults and the environment's
// KONTAKT_CONFIG file when path is empty).
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		path = os.Getenv("KONTAKT_CONFIG")
	}
	return config.Load(path)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(strings.ToUpper(cfg.Log.Level)))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
