package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"kontakt/internal/config"
	"kontakt/internal/menus"
	"kontakt/internal/store"
	"kontakt/ivr"
	"kontakt/ivr/prompt"
)

func init() {
	commands["prompts"] = command{"render a menu's prompts (text → 8 kHz telephone audio) and list them", cmdPrompts}
}

// defaultMenuID is the menu residents reach when they dial 19115.
const defaultMenuID = "19115"

func cmdPrompts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("prompts", stderr, "prompts [-config FILE] [-menu FILE.json | -version N] [-out DIR]")
	path := fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")
	file := fs.String("menu", "", "a menu document (JSON) to render instead of a stored version")
	version := fs.Int("version", 0, "the stored version of menu 19115 to render (default: the published one)")
	out := fs.String("out", "", "the prompt cache to render into (default: <calls.prompts_dir>/cache)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see kontakt prompts -h)", fs.Args())
	}
	if *file != "" && *version != 0 {
		return errors.New("give -menu or -version, not both")
	}
	if *version < 0 {
		return errors.New("-version must be a positive whole number")
	}
	// A menu file needs no database: without a configuration file the defaults do.
	cfg := config.Default()
	if *file == "" || *path != "" || os.Getenv("KONTAKT_CONFIG") != "" {
		var err error
		if cfg, err = loadConfig(*path); err != nil {
			return err
		}
	}
	var m *ivr.Menu
	var what string
	if *file != "" {
		data, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		var probs ivr.Problems
		if m, probs = ivr.Load(data, ivr.DefaultCatalog()); len(probs) > 0 {
			return problemsError(stderr, *file, probs)
		}
		what = *file
	} else {
		var err error
		if m, what, err = storedMenu(ctx, cfg, *version, stderr); err != nil {
			return err
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(cfg.Calls.PromptsDir, "cache")
	}
	r, err := prompt.New(ctx, dir, prompt.Options{AudioDir: filepath.Join(cfg.Calls.PromptsDir, "uploads")})
	if err != nil {
		return err
	}
	start := time.Now()
	files, err := r.RenderMenu(ctx, m)
	took := time.Since(start)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(files))
	width := 0
	for k := range files {
		keys = append(keys, string(k))
		width = max(width, len(k))
	}
	sort.Strings(keys)
	var total time.Duration
	for _, k := range keys {
		f := files[ivr.PromptKey(k)]
		d, err := wavDuration(f)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		total += d
		fmt.Fprintf(stdout, "%-*s  %s  (%.1f s)\n", width, k, f, d.Seconds())
	}
	fmt.Fprintf(stdout, "%s: %d prompts, %.1f s of audio, rendered in %s into %s\n",
		what, len(keys), total.Seconds(), took.Round(time.Millisecond), r.Dir())
	return nil
}

// problemsError prints every located problem of a document and returns the error that makes
// the command exit non-zero.
func problemsError(w io.Writer, what string, probs ivr.Problems) error {
	for _, p := range probs {
		fmt.Fprintf(w, "%s: %s\n", what, p)
	}
	return fmt.Errorf("%s does not validate: %d problem(s)", what, len(probs))
}

// openMenus opens the database and a menu service over it (without a renderer).
func openMenus(ctx context.Context, cfg config.Config) (*menus.Service, func(), error) {
	pool, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return nil, nil, err
	}
	return menus.New(pool, menus.Options{}), pool.Close, nil
}

// storedMenu loads version (0: the published one) of menu 19115 from the database, validated.
func storedMenu(ctx context.Context, cfg config.Config, version int, stderr io.Writer) (*ivr.Menu, string, error) {
	svc, closeDB, err := openMenus(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	defer closeDB()
	if version == 0 {
		if version, err = publishedVersion(ctx, svc, defaultMenuID); err != nil {
			return nil, "", err
		}
	}
	v, err := svc.Get(ctx, defaultMenuID, version)
	if err != nil {
		return nil, "", err
	}
	what := fmt.Sprintf("menu %s version %d (%s)", defaultMenuID, version, v.Status)
	m, probs := svc.Validate(v.Document)
	if len(probs) > 0 {
		return nil, "", problemsError(stderr, what, probs)
	}
	return m, what, nil
}

// publishedVersion returns the number of a menu's published version.
func publishedVersion(ctx context.Context, svc *menus.Service, menuID string) (int, error) {
	vs, err := svc.Versions(ctx, menuID)
	if err != nil {
		return 0, err
	}
	for _, v := range vs {
		if v.Status == "published" {
			return v.Version, nil
		}
	}
	return 0, fmt.Errorf("menu %s has no published version (give -version N)", menuID)
}

// wavDuration reads a PCM WAV file's header and returns how long its audio lasts.
func wavDuration(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var riff [12]byte
	if _, err := io.ReadFull(f, riff[:]); err != nil || string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return 0, fmt.Errorf("%s is not a WAV file", path)
	}
	var byteRate uint32
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(f, hdr[:]); err != nil {
			return 0, fmt.Errorf("%s: no audio data in the WAV file", path)
		}
		size := binary.LittleEndian.Uint32(hdr[4:])
		switch string(hdr[:4]) {
		case "fmt ":
			fmtChunk := make([]byte, size)
			if _, err := io.ReadFull(f, fmtChunk); err != nil || size < 16 {
				return 0, fmt.Errorf("%s: a bad WAV format chunk", path)
			}
			byteRate = binary.LittleEndian.Uint32(fmtChunk[8:12])
			if size%2 == 1 {
				f.Seek(1, io.SeekCurrent)
			}
		case "data":
			if byteRate == 0 {
				return 0, fmt.Errorf("%s: WAV data before its format", path)
			}
			if size == 0xFFFFFFFF { // sox writes this while streaming; the file's size tells
				st, err := f.Stat()
				if err != nil {
					return 0, err
				}
				pos, _ := f.Seek(0, io.SeekCurrent)
				size = uint32(st.Size() - pos)
			}
			return time.Duration(float64(size) / float64(byteRate) * float64(time.Second)), nil
		default:
			if _, err := f.Seek(int64(size+size%2), io.SeekCurrent); err != nil {
				return 0, err
			}
		}
	}
}
