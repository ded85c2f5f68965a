package ivr

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

func actionsString(acts []Action) string {
	var s []string
	for _, a := range acts {
		s = append(s, a.String())
	}
	return strings.Join(s, "; ")
}

// A call keeps the version it started with: publishing another version (decoding a new
// document) changes nothing for it.
func TestCallKeepsItsVersion(t *testing.T) {
	v1 := DefaultMenu()
	c := NewCall(v1, CallOptions{})
	c.Start(t0)
	for range 3 {
		c.Step(t0, PromptFinished{ID: c.play})
	}
	c.Step(t0, DTMF{Digit: '1'}) // Polish, at the topics menu
	doc := strings.NewReplacer(`"next": "q_transport"`, `"next": "q_roads"`, `"next": "q_roads"`, `"next": "q_transport"`).Replace(string(DefaultMenuJSON()))
	v2, ps := Load([]byte(doc), DefaultCatalog())
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if v2.Nodes["topics"].Options[0].Next != "q_roads" {
		t.Fatal("edit not applied")
	}
	c.Step(t0, DTMF{Digit: '1'})
	c.Step(t0, PromptFinished{ID: c.play})
	if r := c.Result(); r.Queue != "transport" || c.Menu() != v1 {
		t.Errorf("the call moved to the new version: %+v", r)
	}
}

// An unvalidated menu cannot hang or crash the interpreter: it hangs up with menu_error.
func TestUnvalidatedMenus(t *testing.T) {
	cases := map[string]string{
		"dangling start": `{"languages":["pl"],"start":"x","nodes":{}}`,
		"loop of gotos":  `{"languages":["pl"],"start":"a","nodes":{"a":{"kind":"goto","next":"b"},"b":{"kind":"goto","next":"a"}}}`,
		"silent plays":   `{"languages":["pl"],"start":"a","nodes":{"a":{"kind":"play","next":"b"},"b":{"kind":"play","next":"a"}}}`,
		"unknown kind":   `{"languages":["pl"],"start":"a","nodes":{"a":{"kind":"teleport"}}}`,
	}
	for name, doc := range cases {
		m, _ := Decode([]byte(doc))
		c := NewCall(m, CallOptions{})
		acts := c.Start(t0)
		if last := acts[len(acts)-1]; last != (HangUp{Reason: "menu_error"}) || c.Result().Outcome != OutcomeError {
			t.Errorf("%s: %s", name, actionsString(acts))
		}
	}
	// a menu without prompts just waits for keys
	m, _ := Decode([]byte(`{"languages":["pl"],"start":"m","nodes":{"m":{"kind":"menu","options":[{"digit":"1","next":"q"}],"fallback":"q"},"q":{"kind":"queue","queue":"general"}}}`))
	c := NewCall(m, CallOptions{})
	if got := actionsString(c.Start(t0)); got != "language pl; enter m (menu); timer #1 5s at 2026-05-12T10:00:05Z" {
		t.Errorf("no prompt: %s", got)
	}
	if got := actionsString(c.Step(t0, DTMF{Digit: '1'})); got != "digit 1 at m; cancel timer #1; enter q (queue); route queue=general skills= language=pl priority=0" {
		t.Errorf("no prompt: %s", got)
	}
}

func TestStepIgnoresWhatDoesNotApply(t *testing.T) {
	c := NewCall(DefaultMenu(), CallOptions{Language: "de"})
	if c.Language() != LangPL {
		t.Errorf("undeclared language kept: %s", c.Language())
	}
	if acts := c.Step(t0, DTMF{Digit: '1'}); acts != nil {
		t.Errorf("step before start: %v", acts)
	}
	c.Start(t0)
	if acts := c.Start(t0); acts != nil {
		t.Error("started twice")
	}
	if acts := c.Step(t0, DTMF{Digit: 'A'}); acts != nil {
		t.Errorf("not a key: %v", acts)
	}
	if acts := c.Step(t0, TimerFired{ID: 99}); acts != nil {
		t.Errorf("unknown timer: %v", acts)
	}
	if acts := c.Step(t0, LookupResult{Status: LookupFound}); acts != nil {
		t.Errorf("lookup nobody asked for: %v", acts)
	}
}

func TestSpoken(t *testing.T) {
	d := time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC) // 26 Oct in Warsaw
	for l, want := range map[Lang]string{LangPL: "26 października 2026", LangEN: "26 October 2026", LangUK: "26 жовтня 2026 року"} {
		if got := SpokenDate(d.In(warsaw), l); got != want {
			t.Errorf("%s: %s", l, got)
		}
	}
	got := fillTicket("{number} {status} {category} {unit} {updated} {x}", "123", TicketInfo{Status: "s", Category: "c", Unit: "u", Updated: d}, LangPL, warsaw)
	if got != "1 2 3 s c u 26 października 2026 {x}" {
		t.Errorf("fill: %s", got)
	}
}

// Silence at a language node without next: the default language's own choice says where to go.
func TestLanguageDefaultFollowsItsChoice(t *testing.T) {
	doc := `{"format":1,"id":"l","languages":["pl","en"],"start":"lang","nodes":{
	  "lang":{"kind":"language","choices":[
	    {"digit":"1","language":"pl","announce":"Polski: 1.","next":"pl"},
	    {"digit":"2","language":"en","announce":"English: 2.","next":"en"}]},
	  "pl":{"kind":"queue","queue":"pl"},
	  "en":{"kind":"queue","queue":"en"}}}`
	m, ps := Load([]byte(doc), nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	c := NewCall(m, CallOptions{Language: LangEN})
	c.Start(t0)
	c.Step(t0, PromptFinished{ID: c.play})
	got := actionsString(c.Step(t0, TimerFired{ID: c.timer}))
	if got != "language pl; enter pl (queue); route queue=pl skills= language=pl priority=0" {
		t.Errorf("%s", got)
	}
}

// Every prompt the interpreter can play from a menu is one that Prompts lists (and so one that
// prompt.RenderMenu renders at publish time); only ticket status answers are dynamic.
func TestEveryPlayablePromptIsListed(t *testing.T) {
	for _, m := range []*Menu{DefaultMenu(), loadTestMenu(t, "hours")} {
		listed := map[PromptKey]Lang{}
		for _, p := range m.Prompts() {
			listed[p.Key] = p.Lang
		}
		for _, id := range m.NodeIDs() {
			n := m.Nodes[id]
			for li := range SupportedLangs {
				p := n.c.play[li]
				for _, set := range [][]PromptRef{p.main, p.invalid, p.noInput, p.unknownRetry, p.unknownLast} {
					for _, r := range set {
						if l, ok := listed[r.Key]; !ok || l != r.Lang || r.Dynamic {
							t.Errorf("%s: %s (%s) is not listed for rendering", id, r.Key, r.Lang)
						}
					}
				}
			}
		}
	}
}
