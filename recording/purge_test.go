package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"kontakt/internal/store"
	"kontakt/internal/testenv"
)

func TestExpiryCutoffAgreesWithTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 115))
	start := at("2024-01-01 00:00")
	span := int64(6 * 365 * 24 * time.Hour)
	// Month boundaries and DST changes, a nanosecond either side, and random instants.
	var instants []time.Time
	for y := 2024; y <= 2029; y++ {
		for m := time.January; m <= time.December; m++ {
			b := time.Date(y, m, 1, 0, 0, 0, 0, waw)
			instants = append(instants, b, b.Add(-time.Nanosecond), b.Add(time.Nanosecond))
		}
	}
	for _, s := range []string{"2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"} {
		tm, _ := time.Parse(time.RFC3339, s)
		instants = append(instants, tm)
	}
	for range 2000 {
		instants = append(instants, start.Add(time.Duration(rng.Int64N(span))))
	}
	for _, months := range []int{1, 6, 12, 25} {
		p := Policy{Months: months, Zone: waw}
		for range 20000 {
			now := instants[rng.IntN(len(instants))]
			reg := instants[rng.IntN(len(instants))]
			if got, want := reg.Before(expiryCutoff(now, p)), Expired(reg, now, p); got != want {
				t.Fatalf("%d months, registered %s, now %s: cutoff says expired=%v, the rule %v", months,
					reg.In(waw).Format(time.RFC3339Nano), now.In(waw).Format(time.RFC3339Nano), got, want)
			}
		}
	}
}

// purgeWorld is a fixture with tickets and recordings around the retention date 2026-08-01.
type purgeWorld struct {
	*fixture
	expired, held, young, failed, stale Recording
	ticketA                             store.TicketID
	callA                               store.CallID
	stalePath                           string
}

func newPurgeWorld(t *testing.T) *purgeWorld {
	f := newFixture(t)
	w := &purgeWorld{fixture: f}
	// A: registered in January, expired on 1 August; every personal field filled.
	callA, tkA := f.call(at("2026-01-15 10:00"), "+48600111222")
	w.ticketA, w.callA = tkA.ID, callA
	w.exec(`UPDATE tickets SET kind = 'intervention', status = 'closed', closed_at = $2,
		category_id = (SELECT id FROM categories WHERE code = 'pothole'), category = 'pothole',
		unit_id = (SELECT id FROM units WHERE code = 'roads_transport'), unit = 'roads_transport',
		caller_name = 'Jan Kowalski', caller_email = 'jan.kowalski@example.pl',
		description = 'Dziura przed domem pana Kowalskiego, tel. 600 111 222',
		address = 'ul. Piotrkowska 104, Łódź', street = 'Piotrkowska', street_key = 'piotrkowska', house_number = '104',
		lat = 51.7592485, lon = 19.4559833, media_url = 'https://example.pl/zdjecie.jpg',
		attributes = '{"size": "large", "remarks": "dzwonić po 16, pan Jan"}',
		report_how = 'Załatano; rozmawiano z panem Kowalskim', report_when = $2
		WHERE id = $1`, int64(tkA.ID), at("2026-01-20 12:00"))
	w.exec(`INSERT INTO ticket_history (ticket_id, at, action, actor_role, before, after) VALUES
		($1, $2, 'register', 'system', '{}', '{"status": "new"}'),
		($1, $2, 'edit', 'system', '{"caller_name": "", "description": "dziura", "address.street": ""}',
			'{"caller_name": "Jan Kowalski", "description": "Dziura przed domem", "address.street": "Piotrkowska"}')`,
		int64(tkA.ID), at("2026-01-15 10:05"))
	w.exec(`INSERT INTO ticket_history (ticket_id, at, action, actor_role, note, before, after) VALUES
		($1, $2, 'close', 'system', 'Pan Kowalski dziękuje', '{"status": "resolved_by_unit"}', '{"status": "closed"}')`,
		int64(tkA.ID), at("2026-01-20 12:00"))
	if err := f.st.AppendCallEvents(f.ctx, callA, []store.CallEvent{
		{Seq: 1, At: at("2026-01-15 10:00"), Type: "stasis_start", Data: map[string]any{"caller": "+48600111222", "called": "19115"}},
		{Seq: 2, At: at("2026-01-15 10:00"), Type: "ivr_digit", Data: map[string]any{"node": "callback", "digit": "6"}},
		{Seq: 3, At: at("2026-01-15 10:01"), Type: "callback_requested", Data: map[string]any{"number": "600111222", "queue": "general"}},
		{Seq: 4, At: at("2026-01-15 10:05"), Type: "ended", Data: map[string]any{"outcome": "answered", "by": "caller"}},
	}); err != nil {
		t.Fatal(err)
	}
	w.exec(`UPDATE calls SET answered_at = $2, ended_at = $3, outcome = 'answered' WHERE id = $1`,
		string(callA), at("2026-01-15 10:01"), at("2026-01-15 10:05"))
	w.expired = f.finaliseLeg(callA, at("2026-01-15 10:01"), 2)

	// B: expired too, but under legal hold until the end of the year.
	w.held = f.finalised(at("2026-01-20 09:00"), 1)
	var err error
	w.held, err = f.a.SetHold(f.ctx, f.principal("superwizor"), w.held.ID, "complaint 2026/000042", at("2026-12-31 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	// C: registered in February: kept through August.
	w.young = f.finalised(at("2026-02-10 09:00"), 1)
	// D: a failed recording (no file), expired.
	callD, _ := f.call(at("2025-12-01 09:00"), "+48600333444")
	w.failed, err = f.a.Fail(f.ctx, Meta{CallID: callD}, "snoop channel could not be created")
	if err != nil {
		t.Fatal(err)
	}
	// E: a recording a crash left in state recording, its spool file still there; expired.
	callE, _ := f.call(at("2026-01-05 09:00"), "+48600555666")
	w.stalePath = sox(t, filepath.Join(f.spool, "stale.wav"), 1)
	w.stale, err = f.a.Begin(f.ctx, Meta{CallID: callE, SpoolFile: w.stalePath, StartedAt: at("2026-01-05 09:01")})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *purgeWorld) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.tx.Exec(w.ctx, sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
}

func (w *purgeWorld) json(sql string, args ...any) string {
	w.t.Helper()
	var s string
	if err := w.tx.QueryRow(w.ctx, sql, args...).Scan(&s); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// snapshot is everything a purge may change: the rows and the files with their checksums.
func (w *purgeWorld) snapshot() string {
	var b strings.Builder
	for _, table := range []string{"recordings", "tickets", "calls", "call_events", "ticket_history", "purge_evidence", "recording_hold_log"} {
		b.WriteString(table + ": " + w.json(`SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), '[]')::text FROM `+table+` x`) + "\n")
	}
	for _, dir := range []string{w.root, w.spool} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b.WriteString(p + " " + fileSHA(w.t, p) + "\n")
			}
			return nil
		})
	}
	return b.String()
}

func TestPurgeEndToEnd(t *testing.T) {
	w := newPurgeWorld(t)
	now := at("2026-08-01 00:00")
	statsBefore := w.json(`SELECT to_jsonb(x)::text FROM (SELECT number, kind, status, channel, category, unit, category_id,
		unit_id, created_at, updated_at, closed_at, street, street_key, report_when, contacts FROM tickets WHERE id = $1) x`, int64(w.ticketA))
	callStatsBefore := w.json(`SELECT to_jsonb(x)::text FROM (SELECT id, ticket_id, channel_id, direction, called, started_at,
		answered_at, ended_at, outcome FROM calls WHERE id = $1) x`, string(w.callA))
	expiredFile := w.archived(w.expired)
	expiredSHA := fileSHA(t, expiredFile)
	staleSHA := fileSHA(t, w.stalePath)

	// A dry run changes nothing and says what the purge would do.
	before := w.snapshot()
	rep, err := w.a.Purge(w.ctx, now, true)
	if err != nil {
		t.Fatal(err)
	}
	if after := w.snapshot(); after != before {
		t.Fatalf("the dry run changed something:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !rep.DryRun {
		t.Fatal("the report of a dry run must say so")
	}
	checkPurgeReport(t, w, rep, true)

	// The purge.
	rep, err = w.a.Purge(w.ctx, now, false)
	if err != nil {
		t.Fatal(err)
	}
	checkPurgeReport(t, w, rep, false)
	if exists(expiredFile) || exists(w.stalePath) {
		t.Fatal("expired files are still there")
	}
	if !exists(w.archived(w.held)) || !exists(w.archived(w.young)) {
		t.Fatal("a held or young recording's file was deleted")
	}
	for _, r := range []Recording{w.expired, w.failed, w.stale} {
		got := w.get(r.ID)
		if got.State != StatePurged || got.PurgedAt == nil || !got.PurgedAt.Equal(now) {
			t.Errorf("recording %d after the purge: %s", r.ID, got.State)
		}
	}
	if got := w.get(w.expired.ID); got.DurationMS != 2000 || got.SHA256 != expiredSHA || got.Bytes != 32044 {
		t.Errorf("a purged row keeps its statistics: %+v", got)
	}
	if w.get(w.held.ID).State != StateFinalised || w.get(w.young.ID).State != StateFinalised {
		t.Fatal("the held or the young recording changed")
	}
	// Evidence with the deleted files' checksums.
	type ev struct {
		What, Subject, Why, By string
		SHA                    *string
		Bytes                  *int64
		Details                map[string]any
	}
	evidence := func(sql string, args ...any) ev {
		var e ev
		if err := w.tx.QueryRow(w.ctx, `SELECT what, subject, why, by_actor, sha256, bytes, details FROM purge_evidence WHERE `+sql, args...).
			Scan(&e.What, &e.Subject, &e.Why, &e.By, &e.SHA, &e.Bytes, &e.Details); err != nil {
			t.Fatalf("evidence %s %v: %v", sql, args, err)
		}
		return e
	}
	e := evidence(`recording_id = $1`, int64(w.expired.ID))
	if e.What != "recording_file" || e.SHA == nil || *e.SHA != expiredSHA || *e.Bytes != 32044 || e.Subject != w.expired.StoragePath ||
		!strings.Contains(e.Why, "retention period ended 2026-08-01T00:00:00+02:00") || e.By != "test" {
		t.Errorf("evidence of the expired recording: %+v", e)
	}
	e = evidence(`recording_id = $1`, int64(w.stale.ID))
	if e.SHA == nil || *e.SHA != staleSHA || e.Subject != w.stalePath {
		t.Errorf("evidence of the stale recording: %+v", e)
	}
	e = evidence(`recording_id = $1`, int64(w.failed.ID))
	if e.SHA != nil || e.Details["no_file"] != true {
		t.Errorf("evidence of the failed recording: %+v", e)
	}
	e = evidence(`ticket_id = $1 AND what = 'ticket_personal_data'`, int64(w.ticketA))
	if e.SHA != nil || !strings.Contains(e.Why, "registered 2026-01-15T10:00:00+01:00") || e.Details["calls"] != float64(1) ||
		e.Details["call_events"] != float64(3) || e.Details["history_entries"] != float64(2) {
		t.Errorf("evidence of the anonymised ticket: %+v", e)
	}

	// The ticket: personal data replaced, statistics kept.
	if got := w.json(`SELECT to_jsonb(x)::text FROM (SELECT number, kind, status, channel, category, unit, category_id,
		unit_id, created_at, updated_at, closed_at, street, street_key, report_when, contacts FROM tickets WHERE id = $1) x`, int64(w.ticketA)); got != statsBefore {
		t.Errorf("statistics fields changed:\nbefore %s\nafter  %s", statsBefore, got)
	}
	personal := w.json(`SELECT to_jsonb(x)::text FROM (SELECT caller_phone, caller_name, caller_email, description, address,
		house_number, lat, lon, media_url, attributes, report_how, anonymised_at IS NOT NULL AS anonymised FROM tickets WHERE id = $1) x`, int64(w.ticketA))
	want := `{"lat": 51.759, "lon": 19.456, "address": "", "media_url": "", "anonymised": true, "attributes": {"size": "large"}, ` +
		`"report_how": "[anonymised: retention period ended]", "caller_name": null, "description": "[anonymised: retention period ended]", ` +
		`"caller_email": "", "caller_phone": null, "house_number": ""}`
	if personal != want {
		t.Errorf("personal fields:\n got %s\nwant %s", personal, want)
	}
	if got := w.json(`SELECT to_jsonb(x)::text FROM (SELECT id, ticket_id, channel_id, direction, called, started_at,
		answered_at, ended_at, outcome FROM calls WHERE id = $1) x`, string(w.callA)); got != callStatsBefore {
		t.Errorf("call statistics changed:\nbefore %s\nafter  %s", callStatsBefore, got)
	}
	if got := w.json(`SELECT caller || '|' || coalesce(caller_ref, 'null') FROM calls WHERE id = $1`, string(w.callA)); got != "|null" {
		t.Errorf("call caller %q", got)
	}
	if got := w.json(`SELECT jsonb_agg(data ORDER BY seq)::text FROM call_events WHERE call_id = $1`, string(w.callA)); got !=
		`[{"anonymised": true}, {"node": "callback", "anonymised": true}, {"queue": "general", "anonymised": true}, {"by": "caller", "outcome": "answered"}]` {
		t.Errorf("call events: %s", got)
	}
	if got := w.json(`SELECT jsonb_agg(jsonb_build_array(action, note, before, after) ORDER BY id)::text FROM ticket_history WHERE ticket_id = $1`, int64(w.ticketA)); got !=
		`[["register", "", {}, {"status": "new"}], `+
			`["edit", "", {"caller_name": "", "description": "[anonymised: retention period ended]", "address.street": ""}, `+
			`{"caller_name": "[anonymised: retention period ended]", "description": "[anonymised: retention period ended]", "address.street": "Piotrkowska"}], `+
			`["close", "[anonymised: retention period ended]", {"status": "resolved_by_unit"}, {"status": "closed"}]]` {
		t.Errorf("ticket history: %s", got)
	}

	// Again: nothing left to do.
	again, err := w.a.Purge(w.ctx, now.Add(time.Hour), false)
	if err != nil || len(again.Recordings) != 0 || len(again.Tickets) != 0 || len(again.Held) != 1 {
		t.Fatalf("second purge: %+v, %v", again, err)
	}

	// The hold ends on 31 December: the next purge deletes the file, saying so.
	rep, err = w.a.Purge(w.ctx, at("2026-12-31 00:00"), false)
	if err != nil {
		t.Fatal(err)
	}
	if w.names(rep.Recordings) != "held young" || exists(w.archived(w.held)) {
		t.Fatalf("after the hold (and the young one's retention): %+v", rep.Recordings)
	}
	if e := evidence(`recording_id = $1`, int64(w.held.ID)); !strings.Contains(e.Why, "legal hold (complaint 2026/000042) ended 2026-12-31") {
		t.Errorf("evidence after a hold: %s", e.Why)
	}
	if len(rep.Tickets) < 2 { // the held ticket and the February one
		t.Errorf("tickets anonymised after the hold: %+v", rep.Tickets)
	}
}

// names names the world's recordings in a report.
func (w *purgeWorld) names(rs []PurgedRecording) string {
	name := map[ID]string{w.expired.ID: "expired", w.held.ID: "held", w.young.ID: "young", w.failed.ID: "failed", w.stale.ID: "stale"}
	var out []string
	for _, r := range rs {
		out = append(out, name[r.ID])
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func checkPurgeReport(t *testing.T, w *purgeWorld, rep Report, dry bool) {
	t.Helper()
	if got := w.names(rep.Recordings); got != "expired failed stale" {
		t.Errorf("recordings purged: %s", got)
	}
	if len(rep.Held) != 1 || rep.Held[0].ID != w.held.ID || rep.Held[0].Reason != "complaint 2026/000042" {
		t.Errorf("held: %+v", rep.Held)
	}
	if rep.BytesFreed != 32044+16044 {
		t.Errorf("bytes freed %d", rep.BytesFreed)
	}
	// A (every field), D (phone and description), E (phone and description); B is held; C is young.
	if len(rep.Tickets) != 3 || len(rep.TicketsHeld) != 1 {
		t.Fatalf("tickets %+v, held %+v", rep.Tickets, rep.TicketsHeld)
	}
	var a AnonymisedTicket
	for _, tk := range rep.Tickets {
		if tk.ID == w.ticketA {
			a = tk
		}
	}
	if strings.Join(a.Fields, ",") != "caller_phone,caller_name,caller_email,description,report_how,address,house_number,position,media_url,attributes" ||
		a.Calls != 1 || a.CallEvents != 3 || a.History != 2 || a.Status != "closed" {
		t.Errorf("ticket A (dry %v): %+v", dry, a)
	}
	if len(rep.OrphanFiles) != 0 || len(rep.OrphanRows) != 0 || len(rep.Problems) != 0 {
		t.Errorf("orphans %+v %+v problems %v", rep.OrphanFiles, rep.OrphanRows, rep.Problems)
	}
	for _, r := range rep.Recordings {
		if r.ID == w.expired.ID && r.SHA256 != w.expired.SHA256 {
			t.Errorf("report sha256 %s, want %s", r.SHA256, w.expired.SHA256)
		}
	}
}

func TestPurgeOrphansBothWays(t *testing.T) {
	f := newFixture(t)
	kept := f.finalised(at("2026-05-04 09:00"), 1)
	lost := f.finalised(at("2026-05-04 09:10"), 1)
	if err := os.Remove(f.archived(lost)); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(f.root, "2026", "05", "04", "unknown.wav")
	os.WriteFile(stray, []byte("stray"), 0o640)
	partial := filepath.Join(f.root, "2026", "05", "04", tempPrefix+"123")
	os.WriteFile(partial, []byte("half"), 0o640)
	// A leg whose Finalise stopped after placing the file.
	call, _ := f.call(at("2026-05-04 09:20"), "+48600100200")
	pending, _ := f.a.Begin(f.ctx, Meta{CallID: call, StartedAt: at("2026-05-04 09:21")})
	os.WriteFile(filepath.Join(f.root, f.a.archivePath(pending)), []byte("placed"), 0o640)

	rep, err := f.a.Purge(f.ctx, at("2026-05-05 00:00"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.OrphanRows) != 1 || rep.OrphanRows[0].ID != lost.ID || rep.OrphanRows[0].Path != lost.StoragePath {
		t.Errorf("orphan rows: %+v", rep.OrphanRows)
	}
	hints := map[string]string{}
	for _, o := range rep.OrphanFiles {
		hints[o.Path] = o.Hint
	}
	want := map[string]string{
		"2026/05/04/unknown.wav":           "no recording row",
		"2026/05/04/" + tempPrefix + "123": "a partial copy left by an interrupted move",
		f.a.archivePath(pending):           "is still in state recording",
	}
	if len(hints) != len(want) {
		t.Errorf("orphan files: %+v", rep.OrphanFiles)
	}
	for p, h := range want {
		if !strings.Contains(hints[p], h) {
			t.Errorf("orphan %s: hint %q, want %q", p, hints[p], h)
		}
	}
	// Reported, never deleted.
	for _, p := range []string{stray, partial, f.archived(kept)} {
		if !exists(p) {
			t.Errorf("%s was deleted", p)
		}
	}
	if f.get(lost.ID).State != StateFinalised {
		t.Error("the orphan row was changed")
	}
}

func TestPurgeRefusesAnArchiveDirectoryWithoutItsMarker(t *testing.T) {
	f := newFixture(t)
	rec := f.finalised(at("2026-01-04 09:00"), 1)
	wrong, err := New(f.tx, Options{Root: t.TempDir(), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := wrong.Purge(f.ctx, at("2026-08-01 00:00"), false)
	if err == nil || len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], "not a Kontakt recordings archive") {
		t.Fatalf("purge of a wrong directory: %v, %v", rep.Problems, err)
	}
	if len(rep.Recordings) != 0 || f.get(rec.ID).State != StateFinalised || !exists(f.archived(rec)) {
		t.Fatal("a recording was purged through a wrong archive directory")
	}
}

func TestPurgeRunsOneAtATime(t *testing.T) {
	f := newFixture(t)
	pool := testenv.DB(t, "kontakt_test")
	conn, err := pool.Acquire(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(f.ctx, `SELECT pg_advisory_lock($1)`, int64(purgeLock)); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(f.ctx, `SELECT pg_advisory_unlock($1)`, int64(purgeLock))
	if _, err := f.a.Purge(f.ctx, f.now, true); !errors.Is(err, ErrPurgeRunning) {
		t.Fatalf("a purge while another runs: %v", err)
	}
}

func TestReportText(t *testing.T) {
	w := newPurgeWorld(t)
	rep, err := w.a.Purge(w.ctx, at("2026-08-01 00:00"), true)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rep.WriteText(&b)
	out := b.String()
	for _, s := range []string{
		"DRY RUN at 2026-08-01T00:00:00+02:00: nothing was changed",
		"recordings to delete: 3 (47.0 KiB)",
		w.expired.StoragePath + ", 31.3 KiB, expired 2026-08-01, sha256 " + w.expired.SHA256,
		"expired recordings kept by a legal hold: 1",
		"held until 2026-12-31: complaint 2026/000042",
		"tickets to anonymise: 3",
		"caller_phone, caller_name, caller_email, description, report_how, address, house_number, position, media_url, attributes; 1 call(s), 3 call event(s), 2 history entries",
		"orphan files (in the archive, no recording row; not deleted): 0",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}
