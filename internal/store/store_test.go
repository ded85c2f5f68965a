package store_test

import (
	"context"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"kontakt/internal/store"
	"kontakt/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

var warsaw, _ = time.LoadLocation("Europe/Warsaw")

func TestCreateCallWithTicketLinksAndNumbers(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Tx(t), warsaw)
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, warsaw)
	t1, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: "00000000-0000-4000-8000-000000000001",
		ChannelID: "ch-1", Caller: "+48600100200", Called: "19115", StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: "00000000-0000-4000-8000-000000000002",
		ChannelID: "ch-2", Caller: "+48600100201", StartedAt: at.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^2026/\d{6}$`)
	if !re.MatchString(t1.Number) || !re.MatchString(t2.Number) {
		t.Fatalf("numbers %q %q do not look like 2026/000123", t1.Number, t2.Number)
	}
	if t1.Number >= t2.Number {
		t.Fatalf("numbers not increasing: %s then %s", t1.Number, t2.Number)
	}
	if t1.Channel != "phone" || t1.Kind != "unknown" || t1.Status != "new" || t1.CallerPhone != "+48600100200" {
		t.Fatalf("draft ticket: %+v", t1)
	}
	// A callback's attempt joins the ticket it was booked on: no new draft.
	t3, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: "00000000-0000-4000-8000-000000000003",
		ChannelID: "kontakt-out-1", Caller: "19115", Called: "+48600100200", StartedAt: at.Add(2 * time.Minute),
		Direction: "outbound", TicketID: t1.ID})
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.CallByChannel(ctx, "kontakt-out-1")
	if err != nil {
		t.Fatal(err)
	}
	if t3.ID != t1.ID || t3.Number != t1.Number || out.TicketID != t1.ID || out.Direction != "outbound" {
		t.Fatalf("callback attempt: ticket %+v, call %+v; want ticket %s, outbound", t3, out, t1.Number)
	}
	c, err := st.CallByChannel(ctx, "ch-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.TicketID != t1.ID || c.Caller != "+48600100200" || c.EndedAt != nil || c.Direction != "inbound" {
		t.Fatalf("call: %+v", c)
	}
	// A retried create (the first reply was lost) returns the same ticket, creates nothing new.
	again, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: "00000000-0000-4000-8000-000000000001",
		ChannelID: "ch-1", Caller: "+48600100200", StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != t1.ID {
		t.Fatalf("retry created ticket %s, want %s", again.Number, t1.Number)
	}
}

func TestTicketNumbersCountPerWarsawYear(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Tx(t), warsaw)
	// 23:30 UTC on 31 December is already the new year in Warsaw.
	tk, err := st.CreateTicket(ctx, store.Ticket{Channel: "web_form", CreatedAt: time.Date(2030, 12, 31, 23, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Number != "2031/000001" {
		t.Fatalf("number %s, want 2031/000001", tk.Number)
	}
	tk, err = st.CreateTicket(ctx, store.Ticket{Channel: "chat", CreatedAt: time.Date(2031, 3, 1, 9, 0, 0, 0, warsaw)})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Number != "2031/000002" {
		t.Fatalf("number %s, want 2031/000002", tk.Number)
	}
}

func TestCallEndsOnceWithOrderedEvents(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Tx(t), warsaw)
	id := store.CallID("00000000-0000-4000-8000-0000000000aa")
	at := time.Now()
	if _, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: id, ChannelID: "ch-aa", Caller: "+48111", StartedAt: at}); err != nil {
		t.Fatal(err)
	}
	evs := []store.CallEvent{{Seq: 2, At: at, Type: "answered"}, {Seq: 1, At: at, Type: "stasis_start"}, {Seq: 3, At: at, Type: "ended", Data: map[string]any{"outcome": "abandoned"}}}
	if err := st.AppendCallEvents(ctx, id, evs); err != nil {
		t.Fatal(err)
	}
	// A retried batch does not duplicate.
	if err := st.AppendCallEvents(ctx, id, evs[:2]); err != nil {
		t.Fatal(err)
	}
	got, err := st.CallEvents(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Type != "stasis_start" || got[1].Type != "answered" || got[2].Type != "ended" || got[2].Data["outcome"] != "abandoned" {
		t.Fatalf("events: %+v", got)
	}
	if err := st.EndCall(ctx, id, at.Add(time.Minute), "abandoned", 16); err != nil {
		t.Fatal(err)
	}
	if err := st.EndCall(ctx, id, at.Add(2*time.Minute), "failed", 0); err != nil {
		t.Fatal(err)
	}
	c, err := st.Call(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Outcome != "abandoned" || c.HangupCause != 16 || c.EndedAt == nil || !c.EndedAt.Equal(at.Add(time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("first ending must stay: %+v", c)
	}
	if err := st.EndCall(ctx, "00000000-0000-4000-8000-00000000ffff", at, "failed", 0); err == nil {
		t.Fatal("ending an unknown call must fail")
	}
}

func TestSchemaRefusesAnEndedCallWithoutTicket(t *testing.T) {
	tx := testenv.Tx(t)
	_, err := tx.Exec(context.Background(), `INSERT INTO calls (id, channel_id, started_at, ended_at, outcome)
		VALUES ('00000000-0000-4000-8000-0000000000bb', 'ch-bb', now(), now(), 'abandoned')`)
	if err == nil {
		t.Fatal("an ended call without a ticket was accepted")
	}
	_, err = tx.Exec(context.Background(), `INSERT INTO tickets (number, channel) VALUES ('2026/1', 'phone')`)
	if err == nil {
		t.Fatal("a malformed ticket number was accepted")
	}
}

func TestMigrateConcurrentlyAppliesOnce(t *testing.T) {
	p := testenv.Postgres(t)
	ctx := context.Background()
	if err := p.CreateDatabase(ctx, "kontakt_migrate"); err != nil {
		t.Fatal(err)
	}
	pool, err := store.Open(ctx, p.URL("kontakt_migrate"), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	applied := make([][]int, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = store.Migrate(ctx, pool)
		}()
	}
	wg.Wait()
	total := 0
	for i := range 4 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += len(applied[i])
	}
	if total != len(ms) {
		t.Fatalf("migrations applied %d times in all, want %d (each once)", total, len(ms))
	}
	again, err := store.Migrate(ctx, pool)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, %v", again, err)
	}
}

func TestCallbacksKeptUntilEnded(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Tx(t), warsaw)
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, warsaw)
	tk, err := st.CreateCallWithTicket(ctx, store.NewCall{ID: "00000000-0000-4000-8000-0000000000c1",
		ChannelID: "ch-c1", Caller: "+48600100200", StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []store.CallID{"00000000-0000-4000-8000-0000000000c2", "00000000-0000-4000-8000-0000000000c1"} {
		cb := store.Callback{CallID: id, TicketID: tk.ID, Number: "+48600100200", Queue: "roads", Language: "pl",
			ArrivedAt: at.Add(time.Duration(1-i) * time.Minute)}
		if err := st.SaveCallback(ctx, cb); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCallback(ctx, cb); err != nil { // a retry changes nothing
			t.Fatal(err)
		}
	}
	got, err := st.PendingCallbacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CallID != "00000000-0000-4000-8000-0000000000c1" || !got[0].ArrivedAt.Equal(at) || got[0].Queue != "roads" {
		t.Fatalf("pending: %+v; want both, the earlier place first", got)
	}
	if err := st.CallbackAttempted(ctx, got[0].CallID, 2); err != nil {
		t.Fatal(err)
	}
	if err := st.EndCallback(ctx, got[0].CallID, "answered"); err != nil {
		t.Fatal(err)
	}
	if err := st.EndCallback(ctx, got[0].CallID, "failed"); err != nil { // ended already: stays answered
		t.Fatal(err)
	}
	var status string
	var attempts int
	st.DB().QueryRow(ctx, `SELECT status, attempts FROM callbacks WHERE call_id = $1`, string(got[0].CallID)).Scan(&status, &attempts)
	if status != "answered" || attempts != 2 {
		t.Fatalf("ended callback: %s after %d attempts; want answered after 2", status, attempts)
	}
	if left, _ := st.PendingCallbacks(ctx); len(left) != 1 || left[0].CallID != got[1].CallID {
		t.Fatalf("still pending: %+v", left)
	}
	if err := st.EndCallback(ctx, got[1].CallID, "bogus"); err == nil { // last: the error ends the transaction
		t.Fatal("an unknown status was accepted")
	}
}
