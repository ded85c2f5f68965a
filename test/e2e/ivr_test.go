package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kontakt/internal/resident"
	"kontakt/internal/store"
)

// The seeded 19115 menu plays three notices that cannot be skipped (greeting, recording, 112:
// about 21 s), then the language menu; its prompts take barge-in, so keys may follow at once.
const afterNotices = "await language"

// awaitNode returns an Await function for residents: it waits until the call carrying ref has
// entered the IVR node (as recorded in its events) one more time than before.
func awaitNode(st *store.Store) func(ctx context.Context, ref, node string) error {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(ctx context.Context, ref, node string) error {
		mu.Lock()
		want := seen[ref+node] + 1
		seen[ref+node] = want
		mu.Unlock()
		for {
			if c, err := st.CallByRef(ctx, ref); err == nil {
				evs, _ := st.CallEvents(ctx, c.ID)
				n := 0
				for _, e := range evs {
					if e.Type == "ivr_node" && e.Data["node"] == node {
						n++
					}
				}
				if n >= want {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
}

type ivrCall struct {
	name    string
	script  string
	queue   string // the queue the call must be routed to ("" for none)
	lang    string // the call's language at the end
	outcome string
}

func TestE2EIVRSeededMenuByPhone(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil) // the published default menu
	cl := dialResident(t, cfg)
	tk, err := a.Store.CreateTicket(context.Background(), store.Ticket{Channel: "web_form", Description: "Dziura w jezdni",
		CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	digits := strings.ReplaceAll(tk.Number, "/", "")
	calls := []ivrCall{
		{name: "polish waste", script: afterNotices + ", dtmf 1, await topics, dtmf 3, wait 8s", queue: "waste", lang: "pl", outcome: "abandoned"},
		{name: "english roads", script: afterNotices + ", dtmf 2, await topics, dtmf 2, wait 8s", queue: "roads", lang: "en", outcome: "abandoned"},
		{name: "ukrainian animals", script: afterNotices + ", dtmf 3, await topics, dtmf 4, wait 8s", queue: "animals", lang: "uk", outcome: "abandoned"},
		{name: "consultant", script: afterNotices + ", dtmf 1, await topics, dtmf 0, wait 8s", queue: "general", lang: "pl", outcome: "abandoned"},
		{name: "ticket status", script: afterNotices + ", dtmf 2, await topics, dtmf 8, await ticket_status, dtmf " + digits + "#, wait 14s", lang: "en", outcome: "abandoned"},
		{name: "unknown ticket", script: afterNotices + ", dtmf 1, await topics, dtmf 8, await ticket_status, dtmf 2026999999#, wait 8s", lang: "pl", outcome: "abandoned"},
	}
	var wg sync.WaitGroup
	results := make([]resident.Result, len(calls))
	errs := make([]error, len(calls))
	for i, c := range calls {
		steps, err := resident.ParseScript(c.script + ", hangup")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = cl.Place(context.Background(), resident.Call{CallerID: fmt.Sprintf("+4860010040%d", i), Steps: steps,
				Await: awaitNode(a.Store)})
		}()
	}
	wg.Wait()
	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			call := endedCall(t, a.Store, results[i].Ref)
			evs, err := a.Store.CallEvents(context.Background(), call.ID)
			if err != nil {
				t.Fatal(err)
			}
			var routed map[string]any
			var lang string
			var played []string
			for _, e := range evs {
				switch e.Type {
				case "routed":
					routed = e.Data
				case "language":
					lang = e.Data["language"].(string)
				case "ivr_play":
					for _, p := range e.Data["prompts"].([]any) {
						pm := p.(map[string]any)
						played = append(played, fmt.Sprint(pm["key"], pm["text"]))
					}
				}
			}
			if call.Outcome != c.outcome {
				t.Errorf("outcome %s, want %s", call.Outcome, c.outcome)
			}
			if lang != c.lang {
				t.Errorf("language %q, want %q", lang, c.lang)
			}
			if c.queue != "" {
				if routed == nil || routed["queue"] != c.queue || routed["language"] != c.lang {
					t.Errorf("routed %v, want queue %s in %s", routed, c.queue, c.lang)
				}
			} else if routed != nil {
				t.Errorf("routed %v, want no routing", routed)
			}
			if t.Failed() {
				for _, e := range evs {
					t.Logf("%d %s %s %v", e.Seq, e.At.Format("15:04:05.000"), e.Type, e.Data)
				}
			}
			switch c.name {
			case "ticket status":
				// The answer is spoken with the ticket's number and status, in English.
				if !slices.ContainsFunc(played, func(s string) bool {
					return strings.Contains(s, tk.Number) || strings.Contains(s, spokenDigits(tk.Number))
				}) || !slices.ContainsFunc(played, func(s string) bool { return strings.Contains(s, "received") }) {
					t.Errorf("the ticket's status was not spoken; prompts: %v", played)
				}
				if call.TicketID != tk.ID {
					t.Errorf("the call is linked to ticket %d, want %d (the one asked about)", call.TicketID, tk.ID)
				}
				// Through the ticket rules: the draft is merged (history) and the contact counted.
				var contacts, merges int
				a.Store.DB().QueryRow(context.Background(), `SELECT contacts FROM tickets WHERE id = $1`, int64(tk.ID)).Scan(&contacts)
				a.Store.DB().QueryRow(context.Background(), `SELECT count(*) FROM tickets WHERE merged_into = $1`, int64(tk.ID)).Scan(&merges)
				if contacts != 2 || merges != 1 {
					t.Errorf("ticket %s: %d contacts and %d merged drafts; want 2 and 1", tk.Number, contacts, merges)
				}
			case "unknown ticket":
				if !slices.ContainsFunc(played, func(s string) bool { return strings.Contains(s, "unknown") }) {
					t.Errorf("the unknown number was not said; prompts: %v", played)
				}
			}
		})
	}
}

// spokenDigits is how a ticket number may appear in a spoken text: its digits separated.
func spokenDigits(number string) string {
	var b []string
	for _, r := range number {
		if r >= '0' && r <= '9' {
			b = append(b, string(r))
		}
	}
	return strings.Join(b, " ")
}

func TestE2EIVRSilentCallerGetsTheFallback(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil)
	// Silence: the language menu times out to Polish, the topics menu times out three times and
	// its fallback sends the caller to a consultant (about 140 s of prompts and timeouts).
	steps, _ := resident.ParseScript("await q_general, wait 8s, hangup")
	res, err := dialResident(t, cfg).Place(context.Background(), resident.Call{CallerID: "+48600100450", Steps: steps,
		Await: awaitNode(a.Store)})
	if err != nil {
		t.Fatal(err)
	}
	c := endedCall(t, a.Store, res.Ref)
	evs, _ := a.Store.CallEvents(context.Background(), c.ID)
	var routed map[string]any
	topics := 0
	for _, e := range evs {
		if e.Type == "routed" {
			routed = e.Data
		}
		if e.Type == "ivr_play" && strings.Contains(fmt.Sprint(e.Data["prompts"]), "topics") {
			topics++
		}
	}
	if routed == nil || routed["queue"] != "general" || routed["language"] != "pl" {
		t.Fatalf("routed %v; want the fallback to the general queue in Polish", routed)
	}
	if topics < 3 {
		t.Fatalf("the topics menu was played %d times; want it repeated before the fallback", topics)
	}
}

func TestE2EIVRPublishDuringACallKeepsItsVersion(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil)
	cl := dialResident(t, cfg)
	script := afterNotices + ", dtmf 1, await topics, dtmf 3, wait 10s, hangup"
	place := func(from string) <-chan resident.Result {
		ch := make(chan resident.Result, 1)
		steps, _ := resident.ParseScript(script)
		go func() {
			res, err := cl.Place(context.Background(), resident.Call{CallerID: from, Steps: steps, Await: awaitNode(a.Store)})
			if err != nil {
				t.Error(err)
			}
			ch <- res
		}()
		return ch
	}
	first := place("+48600100460")
	waitFor(t, 10*time.Second, "the first call in the menu", func() bool { return a.Board.Active() == 1 })
	// While it listens to the notices, a new version sends key 3 to the general queue.
	cur, ok := a.Menus.Current("19115")
	if !ok {
		t.Fatal("no published menu")
	}
	doc, err := a.Menus.Get(context.Background(), "19115", cur.Version)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(doc.Document), `"queue": "waste"`, `"queue": "general"`, 1)
	if changed == string(doc.Document) {
		t.Fatal("could not find the waste option in the document")
	}
	v, probs, err := a.Menus.SaveDraft(context.Background(), []byte(changed), "test")
	if err != nil || len(probs) > 0 {
		t.Fatalf("save: %v %v", err, probs)
	}
	if _, err := a.Menus.Publish(context.Background(), "19115", v.Version, "test"); err != nil {
		t.Fatal(err)
	}
	second := place("+48600100461")
	routedTo := func(r resident.Result) (string, int) {
		c := endedCall(t, a.Store, r.Ref)
		evs, _ := a.Store.CallEvents(context.Background(), c.ID)
		q, ver := "", 0
		for _, e := range evs {
			switch e.Type {
			case "routed":
				q = e.Data["queue"].(string)
			case "ivr_start":
				ver = int(e.Data["version"].(float64))
			}
		}
		return q, ver
	}
	q1, v1 := routedTo(<-first)
	q2, v2 := routedTo(<-second)
	if q1 != "waste" || v1 != cur.Version {
		t.Errorf("the call in progress went to %q on version %d; want waste on version %d (the one it started with)", q1, v1, cur.Version)
	}
	if q2 != "general" || v2 != v.Version {
		t.Errorf("the new call went to %q on version %d; want general on version %d", q2, v2, v.Version)
	}
	// Roll back: the earlier version is published again.
	if _, err := a.Menus.Rollback(context.Background(), "19115", cur.Version, "test"); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.Menus.Current("19115"); p.Version != cur.Version {
		t.Fatalf("after rollback version %d is current, want %d", p.Version, cur.Version)
	}
}
