package replay

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kontakt/ivr"
)

var at = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

func TestRunDefaultMenu(t *testing.T) {
	in := Input{
		At:      at,
		Tickets: map[string]ivr.TicketInfo{"20261234": {Status: "w realizacji", Updated: at}},
		Sequences: []string{
			"",
			"1 1",
			"2 3",
			"3 4",
			"1 9 6",
			"1 w2s 7",
			"w 0",
			"1 8 20261234#",
			"1 8 20261234# 0",
			"1 8 5555# 5555# 5555#",
			"1 * 1",
			"1 * 2 600100200#",
			"1 # # #",
			"1 1 2",
			"2 h",
			"1 x",
			"1 w5m",
		},
	}
	want := []string{
		"queue general (pl) via fallback",
		"queue transport (pl)",
		"queue waste (en)",
		"queue animals (uk)",
		"queue housing (pl)",
		"queue info (pl)",
		"queue general (pl)",
		"self-service, ticket 20261234 (pl) via fallback",
		"queue general (pl)",
		"queue general (pl) via fallback",
		"callback to caller (pl)",
		"callback to 600100200 (pl)",
		"queue general (pl) via fallback",
		"queue transport (pl)",
		"caller hung up in the menu (en)",
		"still in the menu",
		"queue general (pl) via fallback",
	}
	got := Run(ivr.DefaultMenu(), in)
	for i, r := range got {
		if r.End.String() != want[i] {
			t.Errorf("%q: got %s, want %s (path %v, note %q)", r.Sequence, r.End, want[i], r.Path, r.Note)
		}
	}
	if p := strings.Join(got[1].Path, " "); p != "welcome recorded danger language topics q_transport" {
		t.Errorf("path of \"1 1\": %s", p)
	}
	if got[13].Note != "keys left unused: 2" {
		t.Errorf("unused keys: %q", got[13].Note)
	}
	if !strings.Contains(got[15].Note, `"x" is not a key`) {
		t.Errorf("bad sequence: %q", got[15].Note)
	}
	var buf bytes.Buffer
	if err := Write(&buf, got[:3]); err != nil {
		t.Fatal(err)
	}
	wantOut := `""  → queue general (pl) via fallback  [welcome > recorded > danger > language > topics > q_general]
1 1 → queue transport (pl)  [welcome > recorded > danger > language > topics > q_transport]
2 3 → queue waste (en)  [welcome > recorded > danger > language > topics > q_waste]
`
	if buf.String() != wantOut {
		t.Errorf("Write:\n%s\nwant:\n%s", buf.String(), wantOut)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Fatal(err)
	}
}

// edit decodes the default menu, lets f change the document, and loads the result.
func edit(t *testing.T, f func(doc map[string]any)) *ivr.Menu {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(ivr.DefaultMenuJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	data, _ := json.Marshal(doc)
	m, ps := ivr.Load(data, ivr.DefaultCatalog())
	if len(ps) > 0 {
		t.Fatalf("edited menu: %v", ps)
	}
	return m
}

func node(doc map[string]any, id string) map[string]any {
	return doc["nodes"].(map[string]any)[id].(map[string]any)
}

func TestDiff(t *testing.T) {
	before := ivr.DefaultMenu()
	after := edit(t, func(doc map[string]any) {
		// swap transport and roads; send waste through a new goto (same end, new path);
		// give up on silent callers after one repeat instead of two.
		opts := node(doc, "topics")["options"].([]any)
		opts[0].(map[string]any)["next"] = "q_roads"
		opts[1].(map[string]any)["next"] = "q_transport"
		opts[2].(map[string]any)["next"] = "to_waste"
		doc["nodes"].(map[string]any)["to_waste"] = map[string]any{"kind": "goto", "next": "q_waste"}
		node(doc, "topics")["retries"] = 1
		doc["version"] = 2
	})
	in := Input{At: at, Sequences: []string{"1 1", "1 2", "1 3", "1 4", "", "1 w w 5", "1 w w w 5"}}
	ch := Diff(before, after, in)
	type sum struct {
		seq       string
		end, path bool
	}
	var got []sum
	for _, c := range ch {
		got = append(got, sum{c.Sequence, c.EndChanged, c.PathChanged})
	}
	want := []sum{
		{"1 1", true, true},
		{"1 2", true, true},
		{"1 3", false, true},
		{"1 w w 5", true, true},
	}
	if len(got) != len(want) {
		t.Fatalf("changes: %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	var buf bytes.Buffer
	if err := WriteDiff(&buf, ch[:1]); err != nil {
		t.Fatal(err)
	}
	wantOut := `1 1: ends differently
  before: queue transport (pl)  [welcome > recorded > danger > language > topics > q_transport]
  after:  queue roads (pl)  [welcome > recorded > danger > language > topics > q_roads]
`
	if buf.String() != wantOut {
		t.Errorf("WriteDiff:\n%s\nwant:\n%s", buf.String(), wantOut)
	}
	buf.Reset()
	_ = WriteDiff(&buf, Diff(before, before, in))
	if !strings.HasPrefix(buf.String(), "no sequence") {
		t.Errorf("same menu: %s", buf.String())
	}
}

func TestParse(t *testing.T) {
	toks, err := parse("1, 2 w w1.5s h#*")
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 7 || toks[3].wait != 1500*time.Millisecond || toks[4].key != 'h' {
		t.Fatalf("%+v", toks)
	}
	for _, bad := range []string{"a", "w0s", "1 ? 2"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReadSequences(t *testing.T) {
	seqs, err := ReadSequences(strings.NewReader("// language, topic\n1 1\n\n2 3 w\n1 x\n? \n"))
	if len(seqs) != 2 || seqs[1] != "2 3 w" {
		t.Errorf("%q", seqs)
	}
	if err == nil || !strings.Contains(err.Error(), "line 5") || !strings.Contains(err.Error(), "line 6") {
		t.Errorf("%v", err)
	}
}
