package crm_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"kontakt/internal/crm"
	"kontakt/internal/ticket"
)

// While typing: open tickets of the same category on the same street or within the radius, and
// the caller's recent tickets.
func TestSuggestNearbyAndSameCaller(t *testing.T) {
	e := newEnv(t)
	mk := func(cat, addr string, lat, lon float64, phone string) string {
		body := map[string]any{"channel": "web_form", "category": cat, "description": "x", "caller_phone": phone,
			"address": map[string]any{"text": addr}}
		if lat != 0 {
			body["address"].(map[string]any)["lat"], body["address"].(map[string]any)["lon"] = lat, lon
		}
		return e.create(&e.consultant, body)
	}
	near := mk("pothole", "ul. Piotrkowska 182", 51.7530, 19.4590, "+48600000001")          // ~0 m
	street := mk("pothole", "Piotrkowska 20", 0, 0, "+48600000002")                         // same street, no coordinates
	far := mk("pothole", "ul. Zgierska 50", 51.7890, 19.4470, "+48600000003")               // 4 km away
	otherCat := mk("illegal_dump", "ul. Piotrkowska 182", 51.7530, 19.4590, "+48600000001") // other category
	closed := mk("pothole", "ul. Piotrkowska 180", 51.7531, 19.4591, "+48600000004")
	e.must(e.act(&e.consultant, closed, map[string]any{"action": "forward"}), 200)
	e.must(e.act(&e.roads, closed, map[string]any{"action": "report", "how": "done", "when": e.now.Format(time.RFC3339)}), 200)
	e.must(e.act(&e.consultant, closed, map[string]any{"action": "close"}), 200)

	r := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/suggestions?category=pothole&street=PIOTRKOWSKA&lat=51.7531&lon=19.4591&phone=%2B48600000001", nil), 200)
	got := map[string]string{}
	for _, it := range r.get("nearby").([]any) {
		m := it.(map[string]any)
		got[itoa(int64(m["ticket"].(map[string]any)["id"].(float64)))] = m["reason"].(string)
	}
	if got[near] != "same_street" || got[street] != "same_street" || len(got) != 2 {
		t.Fatalf("nearby %v (near %s, street %s, far %s, other %s, closed %s)", got, near, street, far, otherCat, closed)
	}
	if r.num("nearby.0.distance_m") > 50 {
		t.Fatalf("distance: %s", r.Body)
	}
	same := r.get("same_caller").([]any)
	if len(same) != 2 {
		t.Fatalf("same caller: %s", r.Body)
	}
	// Coordinates alone find what is within the radius, whatever the street is called.
	r = e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/suggestions?category=pothole&lat=51.7540&lon=19.4590", nil), 200)
	if n := len(r.get("nearby").([]any)); n != 1 || r.str("nearby.0.reason") != "within_radius" {
		t.Fatalf("within radius: %s", r.Body)
	}
	r = e.do(&e.consultant, "GET", "/api/v1/tickets/suggestions?category=nope&lat=1", nil)
	e.refused(r, http.StatusUnprocessableEntity, "validation")
}

// Due dates come from the category; the overdue job escalates to the owner, then the
// supervisors, each once, as the system, with history.
func TestRunEscalations(t *testing.T) {
	e := newEnv(t)
	owned := e.create(&e.consultant, map[string]any{"channel": "email", "category": "pothole", "description": "x"}) // 3d
	sys, err := e.svc.CreateTicket(e.ctx, ticket.Actor{Role: ticket.RoleSystem}, crm.NewTicket{Channel: ticket.ChannelMobileApp,
		Category: "noise", Description: "głośno"}) // 4h, nobody owns it
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 5, 4, 14, 0, 0, 0, warsaw); !sys.Due.Equal(want) {
		t.Fatalf("noise due %v, want %v", sys.Due, want)
	}
	run := func(at time.Time) []crm.Escalated {
		t.Helper()
		e.now = at
		got, err := e.svc.RunEscalations(e.ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := run(time.Date(2026, 5, 4, 13, 59, 0, 0, warsaw)); len(got) != 0 {
		t.Fatalf("before any due time: %+v", got)
	}
	got := run(time.Date(2026, 5, 4, 14, 0, 0, 0, warsaw))
	if len(got) != 1 || got[0].Ticket != sys.ID || got[0].Level != ticket.EscalationSupervisor {
		t.Fatalf("unowned ticket goes to the supervisors at once: %+v", got)
	}
	thursday := time.Date(2026, 5, 7, 16, 0, 0, 0, warsaw)
	got = run(thursday)
	if len(got) != 1 || itoa(int64(got[0].Ticket)) != owned || got[0].Level != ticket.EscalationOwner || got[0].Owner != ticket.UserID(e.consultant.UserID) {
		t.Fatalf("owned ticket goes to its owner: %+v", got)
	}
	if got := run(thursday.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("escalated twice: %+v", got)
	}
	// Eight working hours after the due time: Friday 16:00.
	got = run(time.Date(2026, 5, 8, 16, 0, 0, 0, warsaw))
	if len(got) != 1 || got[0].Level != ticket.EscalationSupervisor {
		t.Fatalf("then the supervisors: %+v", got)
	}
	if h := e.history(owned); h[len(h)-1] != "escalate" || h[len(h)-2] != "escalate" {
		t.Fatalf("history %v", h)
	}
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+owned, nil), 200)
	if r.str("escalation") != "supervisor" || r.get("overdue") != true {
		t.Fatalf("ticket: %s", r.Body)
	}
}

// The screen-pop: the call's ticket, the caller's recent tickets, articles of their categories
// first, in one round trip.
func TestScreenPop(t *testing.T) {
	e := seeded(t)
	old := e.create(&e.consultant, map[string]any{"channel": "email", "category": "residence_registration", "description": "meldunek",
		"caller_phone": "+48 600 555 444"})
	e.now = e.now.Add(time.Hour)
	draft := e.phoneDraft("00000000-0000-4000-8000-000000000010", "+48600555444")
	var id int64
	for _, c := range draft {
		id = id*10 + int64(c-'0')
	}
	sp, err := e.svc.ScreenPop(e.ctx, ticket.ID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	if sp.Ticket == nil || itoa(int64(sp.Ticket.ID)) != draft {
		t.Fatalf("ticket: %+v", sp.Ticket)
	}
	if len(sp.Recent) != 1 || itoa(int64(sp.Recent[0].ID)) != old {
		t.Fatalf("recent: %+v", sp.Recent)
	}
	if len(sp.Articles) != 5 || sp.Articles[0].Title != "Zameldowanie na pobyt stały" {
		t.Fatalf("articles: %+v", sp.Articles)
	}
	// A number with no history and a ticket not written yet: still an answer.
	sp, err = e.svc.ScreenPop(e.ctx, 999999999, "+48111222333")
	if err != nil || sp.Ticket != nil || len(sp.Recent) != 0 || len(sp.Articles) != 5 {
		t.Fatalf("empty screen-pop: %+v %v", sp, err)
	}
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/screen-pop?ticket="+draft, nil), 200)
	if r.str("ticket.number") == "" || r.str("articles.0.title") != "Zameldowanie na pobyt stały" {
		t.Fatalf("screen-pop by API: %s", r.Body)
	}
	e.refused(e.do(&e.roads, "GET", "/api/v1/screen-pop?ticket="+draft, nil), http.StatusForbidden, "forbidden")
}

// countingDB counts the statements and batches sent to the database.
type countingDB struct {
	crm.DB
	calls int
}

func (c *countingDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.calls++
	return c.DB.Exec(ctx, sql, args...)
}

func (c *countingDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.calls++
	return c.DB.Query(ctx, sql, args...)
}

func (c *countingDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.calls++
	return c.DB.QueryRow(ctx, sql, args...)
}

func (c *countingDB) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c.calls++
	return c.DB.SendBatch(ctx, b)
}

// The screen-pop and the search are one round trip each.
func TestOneRoundTrip(t *testing.T) {
	e := seeded(t)
	db := &countingDB{DB: e.tx}
	svc := crm.New(db, crm.Options{Location: warsaw, Now: func() time.Time { return e.now }})
	id := e.phoneDraft("00000000-0000-4000-8000-000000000011", "+48600100200")
	var tid int64
	for _, c := range id {
		tid = tid*10 + int64(c-'0')
	}
	if _, err := svc.ScreenPop(e.ctx, ticket.ID(tid), "+48600100200"); err != nil || db.calls != 1 {
		t.Fatalf("screen-pop: %d round trips, %v", db.calls, err)
	}
	db.calls = 0
	if _, err := svc.SearchArticles(e.ctx, crm.ArticleQuery{Q: "wymiana dowodu"}); err != nil || db.calls != 1 {
		t.Fatalf("search: %d round trips, %v", db.calls, err)
	}
}
