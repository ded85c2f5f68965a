package ivr

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/*.txt scenarios")

// Scenario tests: testdata/*.txt hold cases like
//
//	menu 19115
//	start at=2026-03-29T01:59:00+01:00
//	----
//	<the actions, one a line>
//
// Commands: menu NAME (19115 or testdata/menus/NAME.json), start at=TIME [lang=xx],
// digit KEYS (each key is one event), finish-prompt [after=DUR] [id=N], fire id=N, tick DUR (advances the clock
// and fires the timer if it is due), lookup found|unknown|failed [status=… category=… unit=…
// updated=DATE], hangup, result. Lines starting with # are comments.
// `go test ./ivr -run Scenario -update` rewrites the expected output.
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScenarioFile(t, f) })
	}
}

type scenarioCase struct {
	lead     []string // blank and comment lines before the case
	cmds     []string
	expected []string
	line     int
}

func parseScenarios(t *testing.T, data string) ([]scenarioCase, []string) {
	lines := strings.Split(strings.TrimRight(data, "\n"), "\n")
	var cases []scenarioCase
	var cur scenarioCase
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#"):
			if len(cur.cmds) > 0 {
				t.Fatalf("line %d: a blank or comment line inside a case (missing ----?)", i+1)
			}
			cur.lead = append(cur.lead, l)
		case l == "----":
			if len(cur.cmds) == 0 {
				t.Fatalf("line %d: ---- without a command", i+1)
			}
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				i++
				cur.expected = append(cur.expected, lines[i])
			}
			cases = append(cases, cur)
			cur = scenarioCase{}
		default:
			if len(cur.cmds) == 0 {
				cur.line = i + 1
			}
			cur.cmds = append(cur.cmds, l)
		}
	}
	if len(cur.cmds) > 0 {
		t.Fatalf("line %d: case without ----", cur.line)
	}
	return cases, cur.lead
}

func runScenarioFile(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, tail := parseScenarios(t, string(data))
	h := &harness{t: t}
	var out strings.Builder
	for _, c := range cases {
		var got []string
		for _, cmd := range c.cmds {
			got = append(got, h.run(cmd)...)
		}
		if !*update && strings.Join(got, "\n") != strings.Join(c.expected, "\n") {
			t.Errorf("%s:%d: %s\n--- got:\n%s\n--- want:\n%s", file, c.line, strings.Join(c.cmds, "; "),
				strings.Join(got, "\n"), strings.Join(c.expected, "\n"))
		}
		for _, l := range c.lead {
			out.WriteString(l + "\n")
		}
		for _, l := range c.cmds {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n")
		for _, l := range got {
			out.WriteString(l + "\n")
		}
	}
	for _, l := range tail {
		out.WriteString(l + "\n")
	}
	if *update {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var warsaw = func() *time.Location {
	l, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return l
}()

type harness struct {
	t     *testing.T
	menu  *Menu
	call  *Call
	now   time.Time
	play  PlaybackID
	timer *StartTimer
}

func loadTestMenu(t testing.TB, name string) *Menu {
	if name == "19115" {
		return DefaultMenu()
	}
	data, err := os.ReadFile(filepath.Join("testdata", "menus", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m, ps := Load(data, nil)
	if len(ps) > 0 {
		t.Fatalf("menu %s: %v", name, ps)
	}
	return m
}

// args splits a command line into words and key=value pairs; values may be "quoted".
func args(line string) (words []string, kv map[string]string) {
	kv = map[string]string{}
	var toks []string
	var b strings.Builder
	inQ := false
	for _, r := range line {
		switch {
		case r == '"':
			inQ = !inQ
		case r == ' ' && !inQ:
			if b.Len() > 0 {
				toks = append(toks, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		toks = append(toks, b.String())
	}
	for _, tk := range toks {
		if k, v, ok := strings.Cut(tk, "="); ok {
			kv[k] = v
		} else {
			words = append(words, tk)
		}
	}
	return words, kv
}

func (h *harness) run(line string) []string {
	t := h.t
	words, kv := args(line)
	dur := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return d
	}
	switch words[0] {
	case "menu":
		h.menu = loadTestMenu(t, words[1])
		return nil
	case "start":
		at, err := time.Parse(time.RFC3339, kv["at"])
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		h.now = at.In(warsaw)
		if h.menu == nil {
			h.menu = DefaultMenu()
		}
		h.call = NewCall(h.menu, CallOptions{Language: Lang(kv["lang"])})
		h.play, h.timer = 0, nil
		return h.record(h.call.Start(h.now))
	case "digit":
		var out []string
		for i := 0; i < len(words[1]); i++ {
			out = append(out, h.record(h.call.Step(h.now, DTMF{Digit: words[1][i]}))...)
		}
		return out
	case "finish-prompt":
		if a, ok := kv["after"]; ok {
			h.now = h.now.Add(dur(a))
		}
		if h.play == 0 {
			return []string{"(nothing is playing)"}
		}
		id := h.play
		if v, ok := kv["id"]; ok { // a late event for an earlier playback
			fmt.Sscan(v, &id)
		} else {
			h.play = 0
		}
		return h.record(h.call.Step(h.now, PromptFinished{ID: id}))
	case "fire": // fire id=N: a timer event, due or not (a late one for a cancelled timer)
		var id TimerID
		fmt.Sscan(kv["id"], &id)
		return h.record(h.call.Step(h.now, TimerFired{ID: id}))
	case "tick":
		end := h.now.Add(dur(words[1]))
		var out []string
		for h.timer != nil && !h.timer.At.After(end) {
			tm := h.timer
			h.timer = nil
			h.now = tm.At
			out = append(out, fmt.Sprintf("(timer #%d fires at %s)", tm.ID, h.now.Format(time.RFC3339)))
			out = append(out, h.record(h.call.Step(h.now, TimerFired{ID: tm.ID}))...)
		}
		h.now = end
		return out
	case "lookup":
		r := LookupResult{Number: kv["number"]}
		switch words[1] {
		case "found":
			r.Status = LookupFound
			r.Ticket = TicketInfo{Status: kv["status"], Category: kv["category"], Unit: kv["unit"]}
			if u := kv["updated"]; u != "" {
				d, err := time.ParseInLocation("2006-01-02", u, warsaw)
				if err != nil {
					t.Fatal(err)
				}
				r.Ticket.Updated = d
			}
		case "unknown":
			r.Status = LookupNotFound
		case "failed":
			r.Status = LookupFailed
		}
		return h.record(h.call.Step(h.now, r))
	case "hangup":
		return h.record(h.call.Step(h.now, CallerHangUp{}))
	case "result":
		r := h.call.Result()
		s := fmt.Sprintf("result %s language=%s", r.Outcome, r.Language)
		if r.Queue != "" {
			s += " queue=" + r.Queue
		}
		if r.ViaFallback {
			s += " via-fallback"
		}
		if len(h.call.Vars()) > 0 {
			s += fmt.Sprint(" vars=", h.call.Vars())
		}
		return []string{s}
	}
	t.Fatalf("unknown command %q", line)
	return nil
}

func (h *harness) record(acts []Action) []string {
	out := make([]string, 0, len(acts))
	for _, a := range acts {
		switch a := a.(type) {
		case Play:
			h.play = a.ID
		case StopPlayback:
			h.play = 0
		case StartTimer:
			h.timer = &a
		case CancelTimer:
			h.timer = nil
		}
		out = append(out, a.String())
	}
	return out
}
