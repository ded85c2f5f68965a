package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kontakt/internal/menus"
	"kontakt/internal/testenv"
	"kontakt/ivr"
)

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wasteToGeneral is the default menu with the waste topic sent to the general queue.
func wasteToGeneral(t *testing.T) string {
	t.Helper()
	doc := string(ivr.DefaultMenuJSON())
	changed := strings.Replace(doc, `"queue": "waste"`, `"queue": "general"`, 1)
	if changed == doc {
		t.Fatal("the default menu has no waste queue node")
	}
	return changed
}

// badMenu has three located problems: a dangling reference, a key used twice, a missing prompt.
const badMenu = `{
  "format": 1, "id": "19115", "version": 1,
  "languages": ["pl", "en"], "default_language": "pl",
  "start": "topics",
  "nodes": {
    "topics": {"kind": "menu", "fallback": "general",
      "prompt": {"pl": "Jeden albo dwa.", "en": "One or two."},
      "options": [{"digit": "1", "next": "waste"}, {"digit": "1", "next": "general"}, {"digit": "2", "next": "nowhere"}]},
    "waste": {"kind": "queue", "queue": "waste", "prompt": {"pl": "Odpady."}},
    "general": {"kind": "queue", "queue": "general"}
  }
}`

func TestIVRValidate(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "19115.json", string(ivr.DefaultMenuJSON()))
	code, out, errOut := runCmd("ivr", "validate", good)
	if code != 0 || !strings.Contains(out, good+": menu 19115 is valid") {
		t.Fatalf("the default menu: exit %d\n%s%s", code, out, errOut)
	}

	bad := writeFile(t, dir, "bad.json", badMenu)
	code, out, errOut = runCmd("ivr", "validate", bad)
	if code != 1 {
		t.Fatalf("an invalid menu: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"nodes.topics.options.1: key 1",     // 1 twice
		"[duplicate_digit]",                 //
		"nodes.topics.options.2.next",       // nowhere
		"[dangling_reference]",              //
		"nodes.waste.prompt.en",             // no English
		"[missing_prompt]",                  //
		"does not validate: 3 problem(s)\n", // on stderr
	} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s%s", want, out, errOut)
		}
	}

	// Not JSON: the problem is located by line and column.
	broken := writeFile(t, dir, "broken.json", "{\n  \"format\": 1,\n  \"id\": \"19115\",,\n}")
	code, out, _ = runCmd("ivr", "validate", broken)
	if code != 1 || !strings.Contains(out, "line 3") || !strings.Contains(out, "[syntax]") {
		t.Fatalf("broken JSON: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCmd("ivr", "validate"); code != 1 || !strings.Contains(errOut, "give one menu document") {
		t.Fatalf("no file: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("ivr", "frob"); code != 1 || !strings.Contains(errOut, `unknown subcommand "frob"`) {
		t.Fatalf("unknown subcommand: exit %d %s", code, errOut)
	}
}

func TestIVRReplayFiles(t *testing.T) {
	dir := t.TempDir()
	v1 := writeFile(t, dir, "v1.json", string(ivr.DefaultMenuJSON()))
	v2 := writeFile(t, dir, "v2.json", wasteToGeneral(t))
	seqs := writeFile(t, dir, "seqs.txt", "// Polish, public transport\n1 1\n\n2 3\n3 4\n")
	at := "2026-05-12T10:00:00+02:00"

	code, out, errOut := runCmd("ivr", "replay", "-menu", v1, "-sequences", seqs, "-at", at)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "queue transport (pl)") || !strings.Contains(lines[1], "queue waste (en)") ||
		!strings.Contains(lines[2], "queue animals (uk)") {
		t.Fatalf("replay:\n%s", out)
	}

	code, out, errOut = runCmd("ivr", "replay", "-menu", v1, "-compare", v2, "-sequences", seqs, "-at", at, "-json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var res menus.ReplayResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.Reports) != 3 || len(res.Changes) != 1 {
		t.Fatalf("want 3 reports and 1 change, got %+v", res)
	}
	ch := res.Changes[0]
	if ch.Sequence != "2 3" || !ch.EndChanged || ch.Before.End.Queue != "waste" || ch.After.End.Queue != "general" {
		t.Fatalf("change %+v", ch)
	}

	code, out, _ = runCmd("ivr", "replay", "-menu", v1, "-compare", v2, "-sequences", seqs, "-at", at)
	if code != 0 || !strings.Contains(out, "\n2 3: ends differently\n") || strings.Contains(out, "1 1: ") {
		t.Fatalf("text diff: exit %d\n%s", code, out)
	}

	// Mistakes in the flags and the sequences are all reported.
	badSeqs := writeFile(t, dir, "bad.txt", "1 1\n1 x\n")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-sequences", seqs}, []string{"give one of -menu FILE.json and -version N"}},
		{[]string{"-menu", v1}, []string{"give -sequences FILE or -from and -to"}},
		{[]string{"-menu", v1, "-from", "yesterday"}, []string{`-from: "yesterday" is not an RFC 3339 time`, "give -from and -to together"}},
		{[]string{"-menu", v1, "-sequences", badSeqs}, []string{"bad.txt: line 2"}},
		{[]string{"-menu", writeFile(t, dir, "broken.json", "{"), "-sequences", seqs}, []string{"[syntax]"}},
	} {
		code, out, errOut := runCmd(append([]string{"ivr", "replay"}, c.args...)...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1\n%s%s", c.args, code, out, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, errOut)
			}
		}
	}
}

// ivrDBEnv writes a full configuration whose database is a migrated test database.
func ivrDBEnv(t *testing.T) (cfgPath string, svc *menus.Service) {
	t.Helper()
	pool := testenv.DB(t, "kontakt_cmd_ivr")
	ctx := context.Background()
	// Each test starts from no menu versions and no calls.
	for _, q := range []string{`DELETE FROM call_events`, `DELETE FROM calls`, `DELETE FROM menu_audit`, `DELETE FROM menu_versions`} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	body, _ := json.Marshal(map[string]any{
		"ari":      map[string]any{"password": "not-used"},
		"database": map[string]any{"url": testenv.Postgres(t).URL("kontakt_cmd_ivr")},
		"calls":    map[string]any{"prompts_dir": filepath.Join(dir, "prompts")},
	})
	return writeFile(t, dir, "kontakt.json", string(body)), menus.New(pool, menus.Options{})
}

func TestIVRReplayStoredVersionsAndRealCalls(t *testing.T) {
	cfg, svc := ivrDBEnv(t)
	ctx := context.Background()
	v1, _, err := svc.SaveDraft(ctx, ivr.DefaultMenuJSON(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	v2, _, err := svc.SaveDraft(ctx, []byte(wasteToGeneral(t)), "admin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seqs := writeFile(t, dir, "seqs.txt", "1 1\n2 3\n")
	code, out, errOut := runCmd("ivr", "replay", "-config", cfg, "-version", "1", "-compare-version", "2", "-sequences", seqs,
		"-at", "2026-05-12T10:00:00+02:00", "-json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var res menus.ReplayResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v2.Version != 2 || len(res.Changes) != 1 || res.Changes[0].After.End.Queue != "general" {
		t.Fatalf("versions %d, %d; result %+v", v1.Version, v2.Version, res)
	}

	// The real calls of a day: two in range (one hung up in the language menu), one outside it.
	day := time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	insertCall(t, "19115", day.Add(9*time.Hour), []string{"2", "3"}, false)
	insertCall(t, "19115", day.Add(10*time.Hour), nil, true)
	insertCall(t, "19115", day.Add(30*time.Hour), []string{"1", "1"}, false)
	code, out, errOut = runCmd("ivr", "replay", "-config", cfg, "-version", "2", "-from", day.Format(time.RFC3339),
		"-to", day.Add(24*time.Hour).Format(time.RFC3339), "-at", "2026-05-12T10:00:00+02:00")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "23 ") || !strings.Contains(lines[0], "queue general (en)") ||
		!strings.Contains(lines[1], "caller hung up in the menu") || !strings.Contains(errOut, "2 call(s) of menu 19115") {
		t.Fatalf("real calls:\n%s%s", out, errOut)
	}

	// A version that does not exist.
	code, _, errOut = runCmd("ivr", "replay", "-config", cfg, "-version", "9", "-sequences", seqs)
	if code != 1 || !strings.Contains(errOut, "not found: menu 19115 version 9") {
		t.Fatalf("missing version: exit %d %s", code, errOut)
	}
}

// insertCall stores a call of menuID that started at start, with the keys pressed as dtmf events.
func insertCall(t *testing.T, menuID string, start time.Time, keys []string, hungUp bool) {
	t.Helper()
	pool := testenv.DB(t, "kontakt_cmd_ivr")
	ctx := context.Background()
	id := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO calls (id, channel_id, started_at, menu_id) VALUES ($1, $2, $3, $4)`,
		id, "ch-"+id.String(), start, menuID); err != nil {
		t.Fatal(err)
	}
	types := []string{"stasis_start", "ivr_start"}
	data := []map[string]any{{}, {"menu": menuID}}
	for _, k := range keys {
		types = append(types, "dtmf", "ivr_digit")
		data = append(data, map[string]any{"digit": k, "duration_ms": 100}, map[string]any{"digit": k})
	}
	if hungUp {
		types = append(types, "caller_hangup")
		data = append(data, map[string]any{"how": "hangup"})
	}
	for i := range types {
		if _, err := pool.Exec(ctx, `INSERT INTO call_events (call_id, seq, at, type, data) VALUES ($1, $2, $3, $4, $5)`,
			id, i+1, start.Add(time.Duration(i)*time.Second), types[i], data[i]); err != nil {
			t.Fatal(err)
		}
	}
}
