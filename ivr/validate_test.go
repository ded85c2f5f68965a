package ivr

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// base has a node of every kind and no problems.
const base = `{
  "format": 1, "id": "t", "version": 3,
  "languages": ["pl", "en"], "default_language": "pl",
  "start": "welcome",
  "nodes": {
    "welcome": {"kind": "play", "prompt": {"pl": "Dzień dobry.", "en": {"audio": "uploads/hello-en.ogg"}}, "next": "lang"},
    "lang": {"kind": "language", "choices": [
        {"digit": "1", "language": "pl", "announce": {"text": "Polski: 1."}},
        {"digit": "2", "language": "en", "announce": {"text": "English: 2."}}], "next": "main"},
    "main": {"kind": "menu", "prompt": {"pl": "Menu.", "en": "Menu."},
      "options": [
        {"digit": "1", "next": "q"},
        {"digit": "2", "next": "status"},
        {"digit": "3", "next": "number"},
        {"digit": "4", "next": "h"},
        {"digit": "9", "repeat": true}],
      "timeout": "5s", "retries": 2, "fallback": "q"},
    "q": {"kind": "queue", "queue": "general", "skills": ["general"], "priority": 1},
    "status": {"kind": "ticket_status", "prompt": {"pl": "Numer?", "en": "Number?"},
      "found": {"pl": "Zgłoszenie {number}: {status}.", "en": "Report {number}: {status}."},
      "unknown": {"pl": "Nie ma.", "en": "No such report."},
      "min_digits": 4, "max_digits": 10, "escape_digit": "*", "escape_next": "q",
      "next": "main", "fallback": "q"},
    "number": {"kind": "collect", "prompt": {"pl": "Numer telefonu?", "en": "Phone number?"},
      "max_digits": 12, "min_digits": 9, "inter_digit_timeout": "3s", "into": "phone", "next": "cb", "fallback": "q"},
    "cb": {"kind": "callback", "number_from": "phone", "queue": "general", "next": "bye"},
    "h": {"kind": "hours", "schedule": [
        {"days": ["mon", "tue"], "from": "08:00", "to": "12:00"},
        {"days": ["mon"], "from": "12:00", "to": "16:00"}],
      "holidays": ["2026-12-25"], "open": "q", "closed": "bye"},
    "bye": {"kind": "hangup", "prompt": {"pl": "Do widzenia.", "en": "Goodbye."}}
  }
}`

var testCatalog = &Catalog{Queues: []string{"general"}, Skills: []string{"general"}}

// patch applies edits to base: "path=json" sets (creating the last key), "path" alone deletes.
func patch(t *testing.T, edits ...string) []byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		path, val, set := strings.Cut(e, "=")
		parts := strings.Split(path, ".")
		cur := doc
		for _, p := range parts[:len(parts)-1] {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[p]
			case []any:
				i, _ := strconv.Atoi(p)
				cur = c[i]
			}
		}
		last := parts[len(parts)-1]
		var v any
		if set {
			if err := json.Unmarshal([]byte(val), &v); err != nil {
				t.Fatalf("%s: %v", e, err)
			}
		}
		switch c := cur.(type) {
		case map[string]any:
			if set {
				c[last] = v
			} else {
				delete(c, last)
			}
		case []any:
			i, _ := strconv.Atoi(last)
			c[i] = v
		default:
			t.Fatalf("%s: cannot edit", e)
		}
	}
	out, _ := json.Marshal(doc)
	return out
}

func TestBaseIsClean(t *testing.T) {
	m, ps := Load([]byte(base), testCatalog)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if m.Version != 3 || len(m.NodeIDs()) != 9 || m.NodeIDs()[0] != "welcome" {
		t.Fatalf("decoded %+v", m.NodeIDs())
	}
}

func TestValidationLocatesEachProblem(t *testing.T) {
	cases := []struct {
		name  string
		edits []string
		path  string
		code  Code
	}{
		{"dangling option", []string{`nodes.main.options.0.next="qq"`}, "nodes.main.options.0.next", CodeDanglingReference},
		{"dangling fallback", []string{`nodes.main.fallback="nowhere"`}, "nodes.main.fallback", CodeDanglingReference},
		{"dangling start", []string{`start="begin"`}, "start", CodeDanglingReference},
		{"unreachable", []string{`nodes.orphan={"kind":"goto","next":"q"}`}, "nodes.orphan", CodeUnreachableNode},
		{"unreachable after edit", []string{`nodes.main.options.3.next="q"`}, "nodes.h", CodeUnreachableNode},
		{"digit twice", []string{`nodes.main.options.3.digit="1"`}, "nodes.main.options.3", CodeDuplicateDigit},
		{"language digit twice", []string{`nodes.lang.choices.1.digit="1"`}, "nodes.lang.choices.1", CodeDuplicateDigit},
		{"loop without input", []string{`nodes.main.options.0.next="g1"`, `nodes.g1={"kind":"goto","next":"g2"}`,
			`nodes.g2={"kind":"play","prompt":{"pl":"a","en":"a"},"next":"g1"}`}, "nodes.g1", CodeLoopWithoutInput},
		{"self loop", []string{`nodes.main.options.0.next="g1"`, `nodes.g1={"kind":"goto","next":"g1"}`}, "nodes.g1", CodeLoopWithoutInput},
		{"loop without exit", []string{`nodes.main.options.0.next="trap"`,
			`nodes.trap={"kind":"menu","prompt":{"pl":"a","en":"a"},"options":[{"digit":"1","next":"trap"},{"digit":"9","repeat":true}],"fallback":"trap"}`},
			"nodes.trap", CodeLoopWithoutExit},
		{"prompt missing for a language", []string{`nodes.welcome.prompt.en`}, "nodes.welcome.prompt.en", CodeMissingPrompt},
		{"prompt for an undeclared language", []string{`nodes.bye.prompt.uk="До побачення."`}, "nodes.bye.prompt.uk", CodeUnknownLanguage},
		{"prompt in a language without a voice", []string{`nodes.bye.prompt.de="Tschüss."`}, "nodes.bye.prompt.de", CodeUnknownLanguage},
		{"no prompt", []string{`nodes.main.prompt`}, "nodes.main.prompt", CodeMissingField},
		{"empty prompt", []string{`nodes.main.prompt.en=""`}, "nodes.main.prompt.en", CodeBadPrompt},
		{"text and audio", []string{`nodes.main.prompt.en={"text":"a","audio":"a.wav"}`}, "nodes.main.prompt.en", CodeBadPrompt},
		{"bad audio name", []string{`nodes.welcome.prompt.en={"audio":"../etc/passwd"}`}, "nodes.welcome.prompt.en.audio", CodeBadPrompt},
		{"unknown placeholder", []string{`nodes.status.found.en="Report {numer}."`}, "nodes.status.found.en.text", CodeBadPlaceholder},
		{"placeholder outside found", []string{`nodes.bye.prompt.en="Bye {status}."`}, "nodes.bye.prompt.en.text", CodeBadPlaceholder},
		{"unknown queue", []string{`nodes.q.queue="generl"`}, "nodes.q.queue", CodeUnknownQueue},
		{"unknown callback queue", []string{`nodes.cb.queue="x"`}, "nodes.cb.queue", CodeUnknownQueue},
		{"unknown skill", []string{`nodes.q.skills=["general","polish"]`}, "nodes.q.skills.1", CodeUnknownSkill},
		{"schedule overlap", []string{`nodes.h.schedule.1.from="11:00"`}, "nodes.h.schedule.1", CodeScheduleOverlap},
		{"window backwards", []string{`nodes.h.schedule.1.to="10:00"`}, "nodes.h.schedule.1", CodeBadTime},
		{"bad clock", []string{`nodes.h.schedule.0.from="8:00"`}, "nodes.h.schedule.0.from", CodeBadTime},
		{"bad day", []string{`nodes.h.schedule.0.days=["mon","tues"]`}, "nodes.h.schedule.0.days.1", CodeBadDay},
		{"bad holiday", []string{`nodes.h.holidays=["2026-12-25","25.12.2026"]`}, "nodes.h.holidays.1", CodeBadDate},
		{"holiday twice", []string{`nodes.h.holidays=["2026-12-25","2026-12-25"]`}, "nodes.h.holidays.1", CodeDuplicateHoliday},
		{"digit of two keys", []string{`nodes.main.options.0.digit="12"`}, "nodes.main.options.0.digit", CodeBadDigit},
		{"digit not a key", []string{`nodes.main.options.0.digit="A"`}, "nodes.main.options.0.digit", CodeBadDigit},
		{"no digit", []string{`nodes.main.options.0.digit=""`}, "nodes.main.options.0.digit", CodeMissingField},
		{"escape is a digit", []string{`nodes.status.escape_digit="0"`}, "nodes.status.escape_digit", CodeBadDigit},
		{"escape is the terminator", []string{`nodes.status.escape_digit="#"`}, "nodes.status.escape_digit", CodeBadDigit},
		{"bad terminator", []string{`nodes.number.terminator="5"`}, "nodes.number.terminator", CodeBadDigit},
		{"timeout too short", []string{`nodes.main.timeout="100ms"`}, "nodes.main.timeout", CodeBadTimeout},
		{"timeout too long", []string{`nodes.main.timeout="5m"`}, "nodes.main.timeout", CodeBadTimeout},
		{"timeout not a duration", []string{`nodes.main.timeout="soon"`}, "nodes.main.timeout", CodeBadTimeout},
		{"timeout negative", []string{`nodes.number.inter_digit_timeout="-3s"`}, "nodes.number.inter_digit_timeout", CodeBadTimeout},
		{"inter-digit too long", []string{`nodes.number.inter_digit_timeout="45s"`}, "nodes.number.inter_digit_timeout", CodeBadTimeout},
		{"retries", []string{`nodes.main.retries=20`}, "nodes.main.retries", CodeBadValue},
		{"min over max", []string{`nodes.number.min_digits=13`}, "nodes.number.min_digits", CodeBadRange},
		{"max too big", []string{`nodes.number.max_digits=100`}, "nodes.number.max_digits", CodeBadRange},
		{"unknown variable", []string{`nodes.cb.number_from="phon"`}, "nodes.cb.number_from", CodeUnknownVariable},
		{"no fallback", []string{`nodes.main.fallback`}, "nodes.main.fallback", CodeMissingField},
		{"no next", []string{`nodes.welcome.next`}, "nodes.welcome.next", CodeMissingField},
		{"option both", []string{`nodes.main.options.4.next="q"`}, "nodes.main.options.4", CodeBadValue},
		{"bad node id", []string{`nodes.main.options.0.next="a b"`, `nodes.a b={"kind":"goto","next":"q"}`}, "nodes.a b", CodeBadNodeID},
		{"choice language not declared", []string{`nodes.lang.choices.1.language="uk"`}, "nodes.lang.choices.1.language", CodeUnknownLanguage},
		{"language without next", []string{`nodes.lang.next`, `nodes.lang.choices.0.next="main"`, `nodes.lang.choices.1.next="main"`, `nodes.lang.default_language="en"`, `nodes.lang.choices.1.next`}, "nodes.lang.next", CodeMissingField},
		{"priority", []string{`nodes.q.priority=1000`}, "nodes.q.priority", CodeBadValue},
		{"no languages", []string{`languages=[]`}, "languages", CodeMissingField},
		{"language twice", []string{`languages=["pl","en","pl"]`}, "languages.2", CodeBadValue},
		{"default not declared", []string{`default_language="uk"`}, "default_language", CodeUnknownLanguage},
		{"bad timezone", []string{`timezone="Europe/Warszawa"`}, "timezone", CodeBadValue},
		{"format", []string{`format=2`}, "format", CodeBadValue},
		{"no id", []string{`id`}, "id", CodeMissingField},
		// decoding
		{"unknown field", []string{`nodes.main.colour="red"`}, "nodes.main.colour", CodeUnknownField},
		{"field of another kind", []string{`nodes.q.options=[]`}, "nodes.q.options", CodeUnknownField},
		{"unknown top field", []string{`verison=2`}, "verison", CodeUnknownField},
		{"unknown option field", []string{`nodes.main.options.0.goto="q"`}, "nodes.main.options.0.goto", CodeUnknownField},
		{"wrong type", []string{`nodes.main.timeout=5`}, "nodes.main.timeout", CodeWrongType},
		{"wrong type retries", []string{`nodes.main.retries="2"`}, "nodes.main.retries", CodeWrongType},
		{"fractional", []string{`nodes.q.priority=1.5`}, "nodes.q.priority", CodeWrongType},
		{"node not an object", []string{`nodes.bye=[]`}, "nodes.bye", CodeWrongType},
		{"unknown kind", []string{`nodes.bye.kind="hang_up"`}, "nodes.bye.kind", CodeUnknownKind},
		{"no kind", []string{`nodes.bye.kind`}, "nodes.bye.kind", CodeMissingField},
		{"prompt language without a voice (decode)", []string{`nodes.main.prompt.xx="a"`}, "nodes.main.prompt.xx", CodeUnknownLanguage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ps := Load(patch(t, c.edits...), testCatalog)
			if !ps.Has(c.path, c.code) {
				t.Errorf("want %s at %s, got:\n%v", c.code, c.path, ps)
			}
			for _, p := range ps {
				if p.Path == "" || p.Message == "" || p.Code == "" {
					t.Errorf("unlocated problem %+v", p)
				}
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	data := patch(t,
		`nodes.main.options.0.next="qq"`,
		`nodes.main.options.3.digit="1"`,
		`nodes.welcome.prompt.en`,
		`nodes.q.queue="nope"`,
		`nodes.h.schedule.1.from="11:00"`,
		`nodes.main.timeout="2h"`,
		`nodes.main.colour="red"`,
		`nodes.orphan={"kind":"goto","next":"q"}`,
	)
	_, ps := Load(data, testCatalog)
	for _, want := range []struct {
		path string
		code Code
	}{
		{"nodes.main.options.0.next", CodeDanglingReference},
		{"nodes.main.options.3", CodeDuplicateDigit},
		{"nodes.welcome.prompt.en", CodeMissingPrompt},
		{"nodes.q.queue", CodeUnknownQueue},
		{"nodes.h.schedule.1", CodeScheduleOverlap},
		{"nodes.main.timeout", CodeBadTimeout},
		{"nodes.main.colour", CodeUnknownField},
		{"nodes.orphan", CodeUnreachableNode},
	} {
		if !ps.Has(want.path, want.code) {
			t.Errorf("missing %s at %s", want.code, want.path)
		}
	}
	if len(ps) != 8 {
		t.Errorf("want exactly 8 problems, got %d:\n%v", len(ps), ps)
	}
	// the problems are JSON for the API, with stable codes
	out, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `{"path":"nodes.main.colour","code":"unknown_field","message":"a menu node has no field \"colour\"; it can have: kind, description, prompt, options, timeout, retries, no_input, invalid, fallback, barge_in","line":1,"column":`) {
		t.Errorf("JSON: %s", out)
	}
}

func TestDecodeLocatesSyntaxErrors(t *testing.T) {
	cases := []struct {
		doc        string
		path       string
		line, col  int
		msgContain string
	}{
		{"", "$", 1, 1, "empty"},
		{"{\n  \"nodes\": {\n    \"a\": {\"kind\": \"goto\" \"next\": \"b\"}\n  }\n}", "nodes.a", 3, 26, "not valid JSON"},
		{"{\"nodes\": {\"a\": ", "nodes.a", 1, 17, "ends too early"},
		{"[1, 2,]", "$.2", 1, 7, "not valid JSON"},
		{"{} {}", "$", 1, 4, "more after"},
		{strings.Repeat("[", 100), "", 1, 0, "nested too deeply"},
	}
	for _, c := range cases {
		m, ps := Decode([]byte(c.doc))
		if m != nil || len(ps) != 1 || ps[0].Code != CodeSyntax {
			t.Errorf("%q: %v", c.doc, ps)
			continue
		}
		p := ps[0]
		if c.path != "" && p.Path != c.path || p.Line != c.line || (c.col > 0 && p.Column != c.col) || !strings.Contains(p.Message, c.msgContain) {
			t.Errorf("%q: got %s at %d:%d, want %s at %d:%d containing %q", c.doc, p.Path, p.Line, p.Column, c.path, c.line, c.col, c.msgContain)
		}
	}
}

func TestDecodeDuplicateKeys(t *testing.T) {
	doc := strings.Replace(base, `"id": "t",`, `"id": "t", "id": "u",`, 1)
	doc = strings.Replace(doc, `"q": {"kind": "queue"`, `"q": {"kind": "goto", "next": "bye"}, "q": {"kind": "queue"`, 1)
	_, ps := Load([]byte(doc), testCatalog)
	if !ps.Has("id", CodeDuplicateKey) || !ps.Has("nodes.q", CodeDuplicateKey) || len(ps) != 2 {
		t.Errorf("%v", ps)
	}
	if ps[0].Line != 2 {
		t.Errorf("line %d", ps[0].Line)
	}
}

func TestDecodeSuggests(t *testing.T) {
	_, ps := Load(patch(t, `nodes.main.fallbak="q"`, `nodes.main.fallback`), testCatalog)
	if !ps.Has("nodes.main.fallbak", CodeUnknownField) || !strings.Contains(ps.Error(), `did you mean "fallback"?`) {
		t.Errorf("%v", ps)
	}
	// the missing fallback is reported too: the typo does not hide it
	if !ps.Has("nodes.main.fallback", CodeMissingField) {
		t.Errorf("%v", ps)
	}
	_, ps = Load(patch(t, `nodes.main.options.0.next="qu"`), testCatalog)
	if !strings.Contains(ps.Error(), `did you mean "q"?`) {
		t.Errorf("%v", ps)
	}
}

func TestNilCatalogSkipsQueueChecks(t *testing.T) {
	if _, ps := Load(patch(t, `nodes.q.queue="anything"`), nil); len(ps) > 0 {
		t.Error(ps)
	}
}

func TestEnumsRoundTrip(t *testing.T) {
	for k := KindUnknown; k <= KindHangUp; k++ {
		b, _ := k.MarshalText()
		var k2 Kind
		err := k2.UnmarshalText(b)
		if k == KindUnknown {
			if err == nil {
				t.Error("unknown kind accepted")
			}
			continue
		}
		if err != nil || k2 != k {
			t.Errorf("%v → %s → %v (%v)", k, b, k2, err)
		}
	}
	for o := OutcomeUnknown; o <= OutcomeError; o++ {
		b, _ := o.MarshalText()
		var o2 Outcome
		_ = o2.UnmarshalText(b)
		if o2 != o {
			t.Errorf("%v → %s → %v", o, b, o2)
		}
	}
	if ParseOutcome("nonsense") != OutcomeUnknown || ParseKind("nonsense") != KindUnknown {
		t.Error("unknown names")
	}
}
