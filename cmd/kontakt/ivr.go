package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"kontakt/internal/menus"
	"kontakt/ivr"
	"kontakt/ivr/replay"
)

func init() {
	commands["ivr"] = command{"check a menu document (validate) and dry-run key sequences against versions (replay)", cmdIVR}
}

const ivrUsage = `ivr validate FILE.json
       kontakt ivr replay [-config FILE] -menu FILE.json | -version N [-compare FILE.json | -compare-version M]
                          [-sequences FILE | -from RFC3339 -to RFC3339] [-at RFC3339] [-json]`

func cmdIVR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: kontakt %s\n", ivrUsage)
		return errors.New("missing subcommand: validate or replay")
	}
	switch args[0] {
	case "validate":
		return cmdIVRValidate(args[1:], stdout, stderr)
	case "replay":
		return cmdIVRReplay(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "Usage: kontakt %s\n", ivrUsage)
		return nil
	}
	return fmt.Errorf("unknown subcommand %q: want validate or replay", args[0])
}

func cmdIVRValidate(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("ivr validate", stderr, "ivr validate FILE.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one menu document")
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	m, probs := ivr.Load(data, ivr.DefaultCatalog())
	if len(probs) > 0 {
		return problemsError(stdout, file, probs)
	}
	fmt.Fprintf(stdout, "%s: menu %s is valid: %d nodes, %d prompts to render\n", file, m.ID, len(m.Nodes), len(m.Prompts()))
	return nil
}

type replayFlags struct {
	config, menu, compare, sequences string
	id                               string
	version, compareVersion          int
	from, to, at                     string
	asJSON                           bool
}

func cmdIVRReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("ivr replay", stderr, `ivr replay [-config FILE] -menu FILE.json | -version N [-compare FILE.json | -compare-version M]
                          [-sequences FILE | -from RFC3339 -to RFC3339] [-at RFC3339] [-json]

The dry run: where each caller's keys lead in a menu version (queue and language, self-service,
callback, hang-up), and with -compare the sequences that end differently or take another path.
Sequences: keys 0-9 * #, w (wait until the menu times out), w3s (wait 3 s), h (hang up), one a
line in the -sequences file (// comments); -from/-to take the keys real callers pressed.`)
	var f replayFlags
	fs.StringVar(&f.config, "config", "", "configuration file (JSON); default $KONTAKT_CONFIG (for -version, -compare-version, -from/-to)")
	fs.StringVar(&f.id, "id", defaultMenuID, "the stored menu -version, -compare-version and -from/-to refer to")
	fs.StringVar(&f.menu, "menu", "", "a menu document (JSON) to replay against")
	fs.IntVar(&f.version, "version", 0, "a stored version to replay against")
	fs.StringVar(&f.compare, "compare", "", "a menu document (JSON) to compare with")
	fs.IntVar(&f.compareVersion, "compare-version", 0, "a stored version to compare with")
	fs.StringVar(&f.sequences, "sequences", "", "a file of key sequences, one a line")
	fs.StringVar(&f.from, "from", "", "replay the real calls that started from this time (RFC 3339) …")
	fs.StringVar(&f.to, "to", "", "… until this time (RFC 3339, excluded)")
	fs.StringVar(&f.at, "at", "", "when the calls take place (RFC 3339; hours nodes branch on it; default now)")
	fs.BoolVar(&f.asJSON, "json", false, "print the reports and changes as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see kontakt ivr replay -h)", fs.Args())
	}
	var errs []error
	if (f.menu == "") == (f.version <= 0) {
		errs = append(errs, errors.New("give one of -menu FILE.json and -version N"))
	}
	if f.compare != "" && f.compareVersion > 0 {
		errs = append(errs, errors.New("give at most one of -compare and -compare-version"))
	}
	if f.version < 0 || f.compareVersion < 0 {
		errs = append(errs, errors.New("versions are positive whole numbers"))
	}
	parseTime := func(name, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %q is not an RFC 3339 time such as 2026-11-02T08:00:00+01:00", name, s))
		}
		return t
	}
	from, to, at := parseTime("from", f.from), parseTime("to", f.to), parseTime("at", f.at)
	if (f.from == "") != (f.to == "") {
		errs = append(errs, errors.New("give -from and -to together"))
	} else if f.from != "" && !from.IsZero() && !to.IsZero() && !from.Before(to) {
		errs = append(errs, errors.New("-from must be before -to"))
	}
	if f.sequences == "" && f.from == "" {
		errs = append(errs, errors.New("give -sequences FILE or -from and -to"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if at.IsZero() {
		at = time.Now()
	}

	var seqs []string
	if f.sequences != "" {
		fh, err := os.Open(f.sequences)
		if err != nil {
			return err
		}
		seqs, err = replay.ReadSequences(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.sequences, err)
		}
	}

	// The database is needed only for stored versions and real calls.
	var svc *menus.Service
	if f.version > 0 || f.compareVersion > 0 || f.from != "" {
		cfg, err := loadConfig(f.config)
		if err != nil {
			return err
		}
		var closeDB func()
		if svc, closeDB, err = openMenus(ctx, cfg); err != nil {
			return err
		}
		defer closeDB()
	}
	load := func(file string, version int) (*ivr.Menu, error) {
		if file != "" {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, err
			}
			return decodeForReplay(stderr, file, data)
		}
		v, err := svc.Get(ctx, f.id, version)
		if err != nil {
			return nil, err
		}
		return decodeForReplay(stderr, fmt.Sprintf("menu %s version %d", f.id, version), v.Document)
	}
	m, err := load(f.menu, f.version)
	if err != nil {
		return err
	}
	var other *ivr.Menu
	if f.compare != "" || f.compareVersion > 0 {
		if other, err = load(f.compare, f.compareVersion); err != nil {
			return err
		}
	}
	if f.from != "" {
		real, err := svc.CallSequences(ctx, f.id, from, to)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d call(s) of menu %s from %s to %s\n", len(real), f.id, from.Format(time.RFC3339), to.Format(time.RFC3339))
		seqs = append(seqs, real...)
	}

	in := replay.Input{At: at, Sequences: seqs}
	res := menus.ReplayResult{Reports: replay.Run(m, in)}
	if other != nil {
		res.Changes = replay.Diff(m, other, in)
	}
	if f.asJSON {
		if res.Reports == nil {
			res.Reports = []replay.Report{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if err := replay.Write(stdout, res.Reports); err != nil {
		return err
	}
	if other != nil {
		fmt.Fprintln(stdout)
		fmt.Fprintf(stdout, "compared with %s:\n", describe(f.compare, f.id, f.compareVersion))
		return replay.WriteDiff(stdout, res.Changes)
	}
	return nil
}

func describe(file, id string, version int) string {
	if file != "" {
		return file
	}
	return fmt.Sprintf("menu %s version %d", id, version)
}

// decodeForReplay decodes a document for a dry run. A document that cannot be read is refused
// with its problems; one that reads but does not validate is replayed (a draft may be work in
// progress) and its problems are printed as a warning.
func decodeForReplay(stderr io.Writer, what string, data []byte) (*ivr.Menu, error) {
	m, probs := ivr.Load(data, ivr.DefaultCatalog())
	if m == nil {
		return nil, problemsError(stderr, what, probs)
	}
	if len(probs) > 0 {
		fmt.Fprintf(stderr, "warning: %s has %d problem(s) and could not be published:\n", what, len(probs))
		for _, p := range probs {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
	}
	return m, nil
}
