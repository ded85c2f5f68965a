package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kontakt/internal/stack"
	"kontakt/internal/store"
	"kontakt/internal/testenv"
	"kontakt/recording"
)

func TestPurgeCommandFlags(t *testing.T) {
	if _, out, _ := runCmd("help"); !strings.Contains(out, "\n  purge ") {
		t.Errorf("help does not list purge:\n%s", out)
	}
	code, _, errOut := runCmd("purge", "-h")
	for _, f := range []string{"-dry-run", "-archive", "-config", "-retention-months", "-json", defaultArchiveDir} {
		if code != 0 || !strings.Contains(errOut, f) {
			t.Errorf("purge -h (exit %d) does not mention %s:\n%s", code, f, errOut)
		}
	}
	cfg := filepath.Join(t.TempDir(), "kontakt.json")
	os.WriteFile(cfg, []byte(`{"ari": {"password": "x"}, "database": {"url": "postgres://k@127.0.0.1:5432/kontakt"}}`), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-retention-months", "-1", "-config", cfg}, "must not be negative"},
		{[]string{"-archive", "relative/dir", "-config", cfg}, "must be an absolute directory path"},
		{[]string{"-config", cfg, "extra"}, "unexpected arguments"},
	} {
		if code, _, errOut := runCmd(append([]string{"purge"}, tc.args...)...); code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("purge %v: exit %d, stderr %s", tc.args, code, errOut)
		}
	}
}

// TestPurgeCommand runs `kontakt purge` against a Postgres cluster of its own (so it needs no
// TestMain of this package) and an archive with one expired recording.
func TestPurgeCommand(t *testing.T) {
	testenv.Require(t)
	if _, err := exec.LookPath("sox"); err != nil {
		t.Fatal("sox is missing (testenv.Require checks it)")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kontakt-purge-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pg, err := stack.StartPostgres(ctx, dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	pool, err := store.Open(ctx, pg.URL("kontakt"), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}

	// A call registered in January 2025 with its recording: long expired.
	archive := filepath.Join(t.TempDir(), "recordings")
	waw, _ := time.LoadLocation("Europe/Warsaw")
	registered := time.Date(2025, 1, 15, 10, 0, 0, 0, waw)
	st := store.New(pool, waw)
	if _, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: "00000000-0000-4000-8000-000000000071", ChannelID: "ch-71",
		Caller: "+48600700800", Called: "19115", StartedAt: registered, Description: "Pan Nowak, ul. Zielona 7"}); err != nil {
		t.Fatal(err)
	}
	a, err := recording.New(pool, recording.Options{Root: archive})
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(t.TempDir(), "snoop.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", spool, "synth", "1", "sine", "440").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	rec, err := a.Finalise(ctx, spool, recording.Meta{CallID: "00000000-0000-4000-8000-000000000071", Leg: 1, StartedAt: registered.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(archive, rec.StoragePath)

	cfg := filepath.Join(t.TempDir(), "kontakt.json")
	body, _ := json.Marshal(map[string]any{"ari": map[string]any{"password": "not-used"},
		"database": map[string]any{"url": pg.URL("kontakt")}, "log": map[string]any{"level": "warn"}})
	os.WriteFile(cfg, body, 0o600)

	code, out, errOut := runCmd("purge", "--dry-run", "--config", cfg, "--archive", archive)
	if code != 0 || !strings.Contains(out, "DRY RUN") || !strings.Contains(out, "recordings to delete: 1 (15.7 KiB)") ||
		!strings.Contains(out, "tickets to anonymise: 1") || !strings.Contains(out, rec.SHA256) {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal("the dry run deleted the file")
	}

	code, out, errOut = runCmd("purge", "-config", cfg, "-archive", archive, "-json")
	var rep recording.Report
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
		t.Fatalf("purge: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if rep.DryRun || len(rep.Recordings) != 1 || rep.Recordings[0].SHA256 != rec.SHA256 || len(rep.Tickets) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("the expired file is still there")
	}
	var by, sum string
	if err := pool.QueryRow(ctx, `SELECT by_actor, sha256 FROM purge_evidence WHERE recording_id = $1`, int64(rec.ID)).Scan(&by, &sum); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(by, "kontakt purge (command line, ") || sum != rec.SHA256 {
		t.Errorf("evidence by %q sha256 %s", by, sum)
	}
	// A wrong archive directory is refused, not taken for an archive whose files are all gone.
	code, out, errOut = runCmd("purge", "-config", cfg, "-archive", t.TempDir())
	if code != 1 || !strings.Contains(out, "PROBLEMS: 1") || !strings.Contains(errOut, "not a Kontakt recordings archive") {
		t.Errorf("a wrong archive directory: exit %d\n%s%s", code, out, errOut)
	}
}
