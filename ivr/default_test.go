package ivr_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"kontakt/ivr"
	"kontakt/ivr/replay"
)

func TestDefaultMenuValidates(t *testing.T) {
	// against the catalog of the queues the ACD will be seeded with
	cat := &ivr.Catalog{
		Queues: []string{"transport", "roads", "waste", "animals", "green", "housing", "info", "general"},
		Skills: []string{"transport", "roads", "waste", "animals", "green", "housing", "info"},
	}
	m, ps := ivr.Load(ivr.DefaultMenuJSON(), cat)
	if len(ps) > 0 {
		t.Fatalf("the default menu has problems:\n%v", ps)
	}
	if got := ivr.DefaultQueues(); !slices.Equal(got, []string{"animals", "general", "green", "housing", "info", "roads", "transport", "waste"}) {
		t.Errorf("DefaultQueues: %v", got)
	}
	if !slices.Equal(m.Languages, []ivr.Lang{"pl", "en", "uk"}) || m.DefaultLanguage != "pl" {
		t.Errorf("languages %v default %s", m.Languages, m.DefaultLanguage)
	}
	// every prompt has text in each language (nothing to upload before the first publish)
	for _, p := range m.Prompts() {
		if p.Item.Text == "" {
			t.Errorf("%s has no text", p.Key)
		}
	}
}

// Every topic reaches its queue in every language, with the topic's skill.
func TestDefaultMenuTopicsReachTheirQueues(t *testing.T) {
	langs := map[string]ivr.Lang{"1": "pl", "2": "en", "3": "uk"}
	topics := map[string]string{"1": "transport", "2": "roads", "3": "waste", "4": "animals",
		"5": "green", "6": "housing", "7": "info", "0": "general"}
	var seqs []string
	for lk := range langs {
		for tk := range topics {
			seqs = append(seqs, lk+" "+tk, lk+" 9 "+tk) // also after the repeat key
		}
	}
	slices.Sort(seqs)
	at := time.Date(2026, 3, 29, 1, 59, 0, 0, time.UTC)
	for _, r := range replay.Run(ivr.DefaultMenu(), replay.Input{At: at, Sequences: seqs}) {
		lk, tk := r.Sequence[:1], r.Sequence[len(r.Sequence)-1:]
		e := r.End
		if e.Outcome != ivr.OutcomeQueue || e.Queue != topics[tk] || e.Language != langs[lk] || e.ViaFallback {
			t.Errorf("%q ends %s, want queue %s (%s)", r.Sequence, e, topics[tk], langs[lk])
		}
		wantSkills := []string{topics[tk]}
		if tk == "0" {
			wantSkills = nil
		}
		if !slices.Equal(e.Skills, wantSkills) {
			t.Errorf("%q skills %v, want %v", r.Sequence, e.Skills, wantSkills)
		}
		if r.Path[0] != "welcome" || r.Path[1] != "recorded" || r.Path[2] != "danger" {
			t.Errorf("%q does not start with the greeting, recording and 112 notices: %v", r.Sequence, r.Path)
		}
	}
	// the self-service and callback topics, in every language
	for lk, l := range langs {
		rs := replay.Run(ivr.DefaultMenu(), replay.Input{At: at,
			Tickets:   map[string]ivr.TicketInfo{"12345": {Status: "x"}},
			Sequences: []string{lk + " 8 12345#", lk + " * 1", lk + " * 2 48600100200#"}})
		if e := rs[0].End; e.Outcome != ivr.OutcomeSelfService || e.Ticket != "12345" || e.Language != l {
			t.Errorf("%s ticket status: %s", l, e)
		}
		if e := rs[1].End; e.Outcome != ivr.OutcomeCallback || e.Callback != "caller" || e.Language != l {
			t.Errorf("%s callback: %s", l, e)
		}
		if e := rs[2].End; e.Outcome != ivr.OutcomeCallback || e.Callback != "48600100200" {
			t.Errorf("%s callback to a number: %s", l, e)
		}
	}
}

// The document read back from the Go types is the same menu (what the admin UI saves).
func TestDefaultMenuRoundTrip(t *testing.T) {
	m := ivr.DefaultMenu()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	m2, ps := ivr.Decode(data)
	if len(ps) > 0 {
		t.Fatalf("re-decoding: %v", ps)
	}
	data2, _ := json.Marshal(m2)
	if string(data) != string(data2) {
		t.Errorf("not stable:\n%s\n%s", data, data2)
	}
	if len(m2.Prompts()) != len(m.Prompts()) {
		t.Errorf("prompts %d vs %d", len(m2.Prompts()), len(m.Prompts()))
	}
}

// The example in README.md is a valid menu.
func TestReadmeExample(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), "```json\n")
	doc, _, _ := strings.Cut(rest, "```")
	if _, ps := ivr.Load([]byte(doc), &ivr.Catalog{Queues: []string{"waste", "general"}, Skills: []string{"waste"}}); len(ps) > 0 {
		t.Fatalf("README example:\n%v", ps)
	}
}
