package main

import (
	"context"
	"fmt"
	"io"

	"kontakt/internal/store"
)

func init() {
	commands["migrate"] = command{"apply the database migrations (serve also does at start)", cmdMigrate}
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("migrate", stderr, "migrate [-config FILE]")
	path := fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	} else {
		fmt.Fprintf(stdout, "applied migrations %v\n", applied)
	}
	return nil
}
