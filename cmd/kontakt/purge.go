package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"kontakt/internal/store"
	"kontakt/recording"
)

func init() {
	commands["purge"] = command{"apply retention: delete expired recordings, anonymise expired tickets (-dry-run: report only)", cmdPurge}
}

// defaultArchiveDir is where recordings are kept unless -archive says otherwise.
const defaultArchiveDir = "/var/lib/kontakt/recordings"

func cmdPurge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("purge", stderr, "purge [-dry-run] [-config FILE] [-archive DIR] [-retention-months N] [-json]")
	dryRun := fs.Bool("dry-run", false, "report what would be deleted and anonymised; change nothing")
	path := fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")
	archive := fs.String("archive", defaultArchiveDir, "the recordings archive directory")
	months := fs.Int("retention-months", recording.DefaultMonths,
		"full calendar months tickets are kept after the month of their registration (recordings keep the date set when they were made)")
	asJSON := fs.Bool("json", false, "print the whole report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	policy := recording.Policy{Months: *months, Zone: cfg.Location()}
	if err := policy.Validate(); err != nil {
		return fmt.Errorf("-retention-months: %w", err)
	}
	pool, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := recording.New(pool, recording.Options{Root: *archive, Policy: policy, Actor: purgeActor(),
		Logger: newLogger(cfg, stderr)})
	if err != nil {
		return fmt.Errorf("-archive: %w", err)
	}
	rep, purgeErr := a.Purge(ctx, time.Now(), *dryRun)
	if purgeErr != nil && !errors.Is(purgeErr, recording.ErrPurgeProblems) {
		return purgeErr // it stopped: there is no report to print
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(stdout); err != nil {
		return err
	}
	return purgeErr
}

// purgeActor names who ran the purge in the evidence: the command, the OS user and the host.
func purgeActor() string {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("kontakt purge (command line, %s@%s)", who, host)
}
