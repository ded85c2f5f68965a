package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kontakt/internal/testenv"
	"kontakt/ivr"
)

// smallMenu has four prompts in two languages (one text shared by two keys).
const smallMenu = `{
  "format": 1, "id": "19115", "version": 1,
  "languages": ["pl", "en"], "default_language": "pl",
  "start": "welcome",
  "nodes": {
    "welcome": {"kind": "play", "next": "general", "prompt": {"pl": "Dzień dobry.", "en": "Hello."}},
    "general": {"kind": "queue", "queue": "general", "prompt": {"pl": "Łączę.", "en": "Hello."}}
  }
}`

var promptLine = regexp.MustCompile(`^(\S+)\s+(/\S+\.wav)\s+\((\d+\.\d) s\)$`)

// checkPromptListing checks kontakt prompts' listing: every key of m once, each with a WAV file
// under dir that lasts as long as printed, and the totals.
func checkPromptListing(t *testing.T, out string, m *ivr.Menu, dir string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := map[string]bool{}
	for _, p := range m.Prompts() {
		want[string(p.Key)] = true
	}
	if len(lines) != len(want)+1 {
		t.Fatalf("want %d prompts and a total line:\n%s", len(want), out)
	}
	for _, l := range lines[:len(lines)-1] {
		g := promptLine.FindStringSubmatch(l)
		if g == nil || !want[g[1]] {
			t.Fatalf("unexpected line %q", l)
		}
		delete(want, g[1])
		if !strings.HasPrefix(g[2], dir+string(filepath.Separator)) {
			t.Errorf("%s rendered to %s, not under %s", g[1], g[2], dir)
		}
		if g[3] == "0.0" {
			t.Errorf("%s: no audio", g[1])
		}
		if _, err := os.Stat(g[2]); err != nil {
			t.Error(err)
		}
	}
	total := lines[len(lines)-1]
	if !strings.Contains(total, ": "+strconv.Itoa(len(m.Prompts()))+" prompts, ") || !strings.Contains(total, " s of audio, rendered in ") {
		t.Errorf("total line %q", total)
	}
}

func TestPromptsFromAFile(t *testing.T) {
	testenv.Require(t) // espeak-ng and sox
	dir := t.TempDir()
	file := writeFile(t, dir, "small.json", smallMenu)
	m, probs := ivr.Load([]byte(smallMenu), ivr.DefaultCatalog())
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCmd("prompts", "-menu", file, "-out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkPromptListing(t, stdout, m, out)
	// The two "Hello." prompts share one file.
	if strings.Count(stdout, ".wav") != 4 || len(uniqueWAVs(stdout)) != 3 {
		t.Errorf("want 4 prompts in 3 files:\n%s", stdout)
	}

	// Every problem of an invalid menu, located, and nothing rendered.
	bad := writeFile(t, dir, "bad.json", badMenu)
	empty := filepath.Join(dir, "empty")
	code, stdout, stderr = runCmd("prompts", "-menu", bad, "-out", empty)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "[duplicate_digit]") || !strings.Contains(stderr, "[dangling_reference]") ||
		!strings.Contains(stderr, "[missing_prompt]") || !strings.Contains(stderr, "does not validate: 3 problem(s)") {
		t.Fatalf("invalid menu: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("an invalid menu created the cache %s (%v)", empty, err)
	}
	if code, _, stderr := runCmd("prompts", "-menu", file, "-version", "2"); code != 1 || !strings.Contains(stderr, "not both") {
		t.Fatalf("-menu with -version: exit %d %s", code, stderr)
	}
}

func uniqueWAVs(out string) map[string]bool {
	u := map[string]bool{}
	for _, f := range strings.Fields(out) {
		if strings.HasSuffix(f, ".wav") {
			u[f] = true
		}
	}
	return u
}

func TestPromptsFromTheDatabase(t *testing.T) {
	cfg, svc := ivrDBEnv(t)
	ctx := context.Background()
	if code, _, stderr := runCmd("prompts", "-config", cfg); code != 1 || !strings.Contains(stderr, "menu 19115 has no published version") {
		t.Fatalf("no published version: exit %d %s", code, stderr)
	}
	v1, _, err := svc.SaveDraft(ctx, []byte(smallMenu), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, "19115", v1.Version, "admin"); err != nil {
		t.Fatal(err)
	}
	// Version 2, a draft that drops English and adds a prompt.
	v2doc := strings.NewReplacer(`["pl", "en"]`, `["pl"]`, `, "en": "Hello."`, ``).Replace(smallMenu)
	v2doc = strings.Replace(v2doc, `"kind": "queue", "queue": "general", "prompt": {"pl": "Łączę."}`,
		`"kind": "queue", "queue": "general", "prompt": {"pl": "Łączę z konsultantem."}`, 1)
	if _, probs, err := svc.SaveDraft(ctx, []byte(v2doc), "admin"); err != nil || len(probs) > 0 {
		t.Fatalf("%v %v", err, probs)
	}
	m1, _ := ivr.Load([]byte(smallMenu), nil)
	m2, _ := ivr.Load([]byte(v2doc), nil)

	// The published version, into <calls.prompts_dir>/cache.
	cache := filepath.Join(filepath.Dir(cfg), "prompts", "cache")
	code, stdout, stderr := runCmd("prompts", "-config", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkPromptListing(t, stdout, m1, cache)
	if !strings.Contains(stdout, "menu 19115 version 1 (published): 4 prompts") {
		t.Errorf("the published version 1 was not rendered:\n%s", stdout)
	}

	// A draft by its number.
	code, stdout, stderr = runCmd("prompts", "-config", cfg, "-version", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkPromptListing(t, stdout, m2, cache)
	if !strings.Contains(stdout, "menu 19115 version 2 (draft): 2 prompts") {
		t.Errorf("draft version 2 was not rendered:\n%s", stdout)
	}

	// A stored draft with problems is refused with them.
	if _, _, err := svc.SaveDraft(ctx, []byte(badMenu), "admin"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCmd("prompts", "-config", cfg, "-version", "3")
	if code != 1 || !strings.Contains(stderr, "menu 19115 version 3 (draft): nodes.topics.options.2.next") {
		t.Fatalf("invalid draft: exit %d\n%s%s", code, stdout, stderr)
	}
}
