package menus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/internal/testenv"
	"kontakt/ivr"
	"kontakt/ivr/prompt"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

// fakeRenderer "renders" every prompt to a made-up file name, counting menus rendered.
type fakeRenderer struct {
	mu    sync.Mutex
	menus int
	fail  error
}

func (f *fakeRenderer) RenderMenu(_ context.Context, m *ivr.Menu) (map[ivr.PromptKey]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.menus++
	out := map[ivr.PromptKey]string{}
	for _, p := range m.Prompts() {
		out[p.Key] = fmt.Sprintf("/prompts/%s-v%d.wav", p.Key, m.Version)
	}
	return out, nil
}

func (f *fakeRenderer) rendered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.menus
}

var (
	menuSeqMu sync.Mutex
	menuSeq   int
)

// newMenuID returns a menu id no other test uses: tests share one database.
func newMenuID(t *testing.T) string {
	menuSeqMu.Lock()
	defer menuSeqMu.Unlock()
	menuSeq++
	return fmt.Sprintf("t%d-%d", menuSeq, time.Now().UnixNano()%1e9)
}

func testDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return testenv.DB(t, "kontakt_menus")
}

// doc is a small valid menu: a greeting and a topics menu leading to two queues. queue is
// where key 1 leads.
func doc(id, queue string) []byte {
	return []byte(`{
  "format": 1, "id": "` + id + `", "version": 1,
  "languages": ["pl", "en"], "default_language": "pl",
  "start": "welcome",
  "nodes": {
    "welcome": {"kind": "play", "next": "topics", "prompt": {"pl": "Dzień dobry.", "en": "Hello."}},
    "topics": {"kind": "menu", "fallback": "general",
      "prompt": {"pl": "Odpady: jeden.", "en": "Waste: one."},
      "options": [{"digit": "1", "next": "q1"}]},
    "q1": {"kind": "queue", "queue": "` + queue + `"},
    "general": {"kind": "queue", "queue": "general"}
  }
}`)
}

// invalidDoc decodes but does not validate: a dangling reference (so q1 is unreachable) and an
// English prompt missing.
func invalidDoc(id string) []byte {
	d := strings.Replace(string(doc(id, "waste")), `"next": "q1"`, `"next": "q9"`, 1)
	return []byte(strings.Replace(d, `, "en": "Waste: one."`, ``, 1))
}

func mustSave(t *testing.T, s *Service, d []byte, actor string) Version {
	t.Helper()
	v, _, err := s.SaveDraft(context.Background(), d, actor)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func statuses(t *testing.T, s *Service, id string) map[int]string {
	t.Helper()
	vs, err := s.Versions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, v := range vs {
		out[v.Version] = v.Status
	}
	return out
}

func TestSaveDraftNumbersVersions(t *testing.T) {
	ctx := context.Background()
	s := New(testDB(t), Options{})
	id := newMenuID(t)
	for want := 1; want <= 3; want++ {
		v, probs, err := s.SaveDraft(ctx, doc(id, "waste"), "ala")
		if err != nil || len(probs) > 0 {
			t.Fatalf("save %d: %v %v", want, err, probs)
		}
		if v.Version != want || v.Status != "draft" || v.CreatedBy != "ala" || v.MenuID != id {
			t.Fatalf("save %d: %+v", want, v)
		}
		// The stored document carries its stored number, whatever the saved one said.
		got, err := s.Get(ctx, id, want)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ Version int }
		if err := json.Unmarshal(got.Document, &d); err != nil || d.Version != want {
			t.Fatalf("stored document version %d (%v), want %d", d.Version, err, want)
		}
	}
	// A draft with problems is stored (work in progress), its problems returned.
	v, probs, err := s.SaveDraft(ctx, invalidDoc(id), "ala")
	if err != nil || v.Version != 4 || !probs.Has("nodes.topics.options.0.next", ivr.CodeDanglingReference) {
		t.Fatalf("invalid draft: %+v %v %v", v, probs, err)
	}
	// One that cannot be read is not stored.
	_, probs, err = s.SaveDraft(ctx, []byte(`{"format": 1, "id": "`+id+`",`), "ala")
	var inv *InvalidError
	if !errors.As(err, &inv) || len(probs) == 0 || probs[0].Code != ivr.CodeSyntax {
		t.Fatalf("unreadable draft: %v %v", err, probs)
	}
	if vs, _ := s.Versions(ctx, id); len(vs) != 4 || vs[0].Version != 4 {
		t.Fatalf("versions %+v", vs)
	}
	// Numbering is per menu.
	if v := mustSave(t, s, doc(newMenuID(t), "waste"), "ala"); v.Version != 1 {
		t.Fatalf("another menu's first version is %d", v.Version)
	}
}

func TestConcurrentSavesGetDistinctNumbers(t *testing.T) {
	s := New(testDB(t), Options{})
	id := newMenuID(t)
	const n = 8
	var wg sync.WaitGroup
	got := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := s.SaveDraft(context.Background(), doc(id, "waste"), "ala")
			if err != nil {
				t.Error(err)
			}
			got[i] = v.Version
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, v := range got {
		if v < 1 || v > n || seen[v] {
			t.Fatalf("versions %v: want 1..%d, each once", got, n)
		}
		seen[v] = true
	}
}

func TestPublishRefusesAnInvalidVersion(t *testing.T) {
	ctx := context.Background()
	r := &fakeRenderer{}
	s := New(testDB(t), Options{Renderer: r})
	id := newMenuID(t)
	good := mustSave(t, s, doc(id, "waste"), "ala")
	if _, err := s.Publish(ctx, id, good.Version, "ala"); err != nil {
		t.Fatal(err)
	}
	bad := mustSave(t, s, invalidDoc(id), "ala")
	_, err := s.Publish(ctx, id, bad.Version, "ala")
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("publish of an invalid version: %v", err)
	}
	if !inv.Problems.Has("nodes.topics.options.0.next", ivr.CodeDanglingReference) ||
		!inv.Problems.Has("nodes.topics.prompt.en", ivr.CodeMissingPrompt) {
		t.Fatalf("problems %v", inv.Problems)
	}
	// Nothing changed: the good version is still the published one, everywhere.
	if st := statuses(t, s, id); st[good.Version] != "published" || st[bad.Version] != "draft" {
		t.Fatalf("statuses %v", st)
	}
	if p, ok := s.Current(id); !ok || p.Version != good.Version {
		t.Fatalf("current %+v", p)
	}
	if r.rendered() != 1 {
		t.Fatalf("rendered %d menus, want 1 (an invalid menu is not rendered)", r.rendered())
	}
	audit, _ := s.AuditLog(ctx, id)
	for _, a := range audit {
		if a.Version == bad.Version && a.Action != "save_draft" {
			t.Fatalf("the refused publish was audited: %+v", a)
		}
	}
	// A queue the ACD does not know is a problem too.
	unknown := mustSave(t, s, doc(id, "parking"), "ala")
	if _, err := s.Publish(ctx, id, unknown.Version, "ala"); !errors.As(err, &inv) ||
		!inv.Problems.Has("nodes.q1.queue", ivr.CodeUnknownQueue) {
		t.Fatalf("unknown queue: %v", err)
	}
	// A version that does not exist.
	if _, err := s.Publish(ctx, id, 99, "ala"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
}

func TestPublishRendersAndFailsWhenRenderingFails(t *testing.T) {
	ctx := context.Background()
	r := &fakeRenderer{}
	s := New(testDB(t), Options{Renderer: r})
	id := newMenuID(t)
	v1 := mustSave(t, s, doc(id, "waste"), "ala")
	if _, err := s.Publish(ctx, id, v1.Version, "ala"); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Current(id)
	if len(p.Files) != 4 || p.Files["nodes.welcome.prompt.en"] != "/prompts/nodes.welcome.prompt.en-v1.wav" {
		t.Fatalf("files %v", p.Files)
	}
	v2 := mustSave(t, s, doc(id, "roads"), "ala")
	r.fail = errors.New("espeak-ng crashed")
	if _, err := s.Publish(ctx, id, v2.Version, "ala"); err == nil || !strings.Contains(err.Error(), "espeak-ng crashed") {
		t.Fatalf("publish with failed rendering: %v", err)
	}
	if st := statuses(t, s, id); st[v1.Version] != "published" || st[v2.Version] != "draft" {
		t.Fatalf("statuses after a failed rendering %v", st)
	}
	if p, _ := s.Current(id); p.Version != v1.Version {
		t.Fatalf("current %d", p.Version)
	}
}

func TestConcurrentPublishesLeaveOnePublished(t *testing.T) {
	ctx := context.Background()
	s := New(testDB(t), Options{Renderer: &fakeRenderer{}})
	id := newMenuID(t)
	const n = 8
	for range n {
		mustSave(t, s, doc(id, "waste"), "ala")
	}
	var wg sync.WaitGroup
	for v := 1; v <= n; v++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Publish(ctx, id, v, fmt.Sprintf("admin%d", v)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	published := 0
	var which int
	for v, st := range statuses(t, s, id) {
		switch st {
		case "published":
			published++
			which = v
		case "archived":
		default:
			t.Errorf("version %d is %s after being published", v, st)
		}
	}
	if published != 1 {
		t.Fatalf("%d versions published", published)
	}
	// The cache agrees with the database: the last publish to commit is the current one.
	if p, _ := s.Current(id); p.Version != which {
		t.Fatalf("current version %d, the database says %d", p.Version, which)
	}
	audit, _ := s.AuditLog(ctx, id)
	if last := audit[len(audit)-1]; last.Action != "publish" || last.Version != which {
		t.Fatalf("the last audited publish is %+v, the published version %d", last, which)
	}
}

func TestRollback(t *testing.T) {
	ctx := context.Background()
	s := New(testDB(t), Options{Renderer: &fakeRenderer{}})
	id := newMenuID(t)
	v1 := mustSave(t, s, doc(id, "waste"), "ala")
	v2 := mustSave(t, s, doc(id, "roads"), "ala")
	v3 := mustSave(t, s, doc(id, "animals"), "ala")
	for _, v := range []int{v1.Version, v2.Version} {
		if _, err := s.Publish(ctx, id, v, "ala"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Rollback(ctx, id, v1.Version, "bartek")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "published" || got.PublishedBy != "bartek" || got.PublishedAt == nil {
		t.Fatalf("rolled back %+v", got)
	}
	if st := statuses(t, s, id); st[v1.Version] != "published" || st[v2.Version] != "archived" || st[v3.Version] != "draft" {
		t.Fatalf("statuses %v", st)
	}
	p, _ := s.Current(id)
	if p.Version != v1.Version || p.Menu.Nodes["q1"].Queue != "waste" {
		t.Fatalf("current %d", p.Version)
	}
	// A draft never published cannot be rolled back to; nothing changes.
	if _, err := s.Rollback(ctx, id, v3.Version, "bartek"); err == nil || !strings.Contains(err.Error(), "never published") {
		t.Fatalf("rollback to a draft: %v", err)
	}
	if st := statuses(t, s, id); st[v1.Version] != "published" || st[v3.Version] != "draft" {
		t.Fatalf("statuses after a refused rollback %v", st)
	}
	if p, _ := s.Current(id); p.Version != v1.Version {
		t.Fatalf("current %d after a refused rollback", p.Version)
	}
}

func TestAuditRecordsWhoAndWhen(t *testing.T) {
	ctx := context.Background()
	pool := testDB(t)
	s := New(pool, Options{})
	id := newMenuID(t)
	// The database's clock stamps the audit: compare with it, not with this process's.
	dbNow := func() time.Time {
		var now time.Time
		if err := pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now
	}
	before := dbNow()
	v1 := mustSave(t, s, doc(id, "waste"), "ala")
	v2 := mustSave(t, s, doc(id, "roads"), "bartek")
	if _, err := s.Publish(ctx, id, v1.Version, "celina"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, id, v2.Version, "dawid"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rollback(ctx, id, v1.Version, "ewa"); err != nil {
		t.Fatal(err)
	}
	after := dbNow()
	audit, err := s.AuditLog(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action, actor string
		version       int
	}{
		{"save_draft", "ala", 1}, {"save_draft", "bartek", 2}, {"publish", "celina", 1}, {"publish", "dawid", 2}, {"rollback", "ewa", 1},
	}
	if len(audit) != len(want) {
		t.Fatalf("audit %+v", audit)
	}
	for i, w := range want {
		a := audit[i]
		if a.MenuID != id || a.Action != w.action || a.Actor != w.actor || a.Version != w.version {
			t.Errorf("entry %d: %+v, want %+v", i, a, w)
		}
		if a.At.Before(before) || a.At.After(after) || (i > 0 && a.At.Before(audit[i-1].At)) {
			t.Errorf("entry %d at %s: not between %s and %s in order", i, a.At, before, after)
		}
	}
	// The version rows say who published them.
	if v, _ := s.Get(ctx, id, v2.Version); v.PublishedBy != "dawid" || v.Status != "archived" {
		t.Errorf("version 2 %+v", v)
	}
}

func TestRefreshPicksUpAnotherProcesssPublish(t *testing.T) {
	ctx := context.Background()
	pool := testDB(t)
	editor := New(pool, Options{Renderer: &fakeRenderer{}})
	rCalls := &fakeRenderer{}
	calls := New(pool, Options{Renderer: rCalls}) // another kontakt process
	id := newMenuID(t)
	v1 := mustSave(t, editor, doc(id, "waste"), "ala")
	v2 := mustSave(t, editor, doc(id, "roads"), "ala")
	if err := calls.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := calls.Current(id); ok {
		t.Fatal("a menu with only drafts has a current version")
	}
	if _, err := editor.Publish(ctx, id, v1.Version, "ala"); err != nil {
		t.Fatal(err)
	}
	if err := calls.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	p, ok := calls.Current(id)
	if !ok || p.Version != v1.Version || len(p.Files) != 4 || p.Menu.Nodes["q1"].Queue != "waste" {
		t.Fatalf("after the first publish: %+v", p)
	}
	before := rCalls.rendered()
	if err := calls.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if rCalls.rendered() != before {
		t.Fatal("a refresh with nothing new rendered the menu again")
	}
	if _, err := editor.Publish(ctx, id, v2.Version, "ala"); err != nil {
		t.Fatal(err)
	}
	if err := calls.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := calls.Current(id); p.Version != v2.Version || p.Menu.Nodes["q1"].Queue != "roads" {
		t.Fatalf("after the second publish: version %d", p.Version)
	}
	if _, err := editor.Rollback(ctx, id, v1.Version, "ala"); err != nil {
		t.Fatal(err)
	}
	if err := calls.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := calls.Current(id); p.Version != v1.Version {
		t.Fatalf("after the rollback: version %d", p.Version)
	}
}

func TestPublishWithTheRealRenderer(t *testing.T) {
	testenv.Require(t) // espeak-ng and sox
	ctx := context.Background()
	r, err := prompt.New(ctx, t.TempDir(), prompt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := New(testDB(t), Options{Renderer: r})
	id := newMenuID(t)
	v := mustSave(t, s, doc(id, "waste"), "ala")
	if _, err := s.Publish(ctx, id, v.Version, "ala"); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Current(id)
	if len(p.Files) != len(p.Menu.Prompts()) {
		t.Fatalf("%d files for %d prompts", len(p.Files), len(p.Menu.Prompts()))
	}
	for k, f := range p.Files {
		st, err := os.Stat(f)
		if err != nil || !strings.HasPrefix(f, r.Dir()) || st.Size() < 1000 {
			t.Errorf("%s: %s (%v)", k, f, err)
		}
	}
	if p.Files["nodes.welcome.prompt.pl"] == p.Files["nodes.welcome.prompt.en"] {
		t.Error("two languages rendered to one file")
	}
}

func TestCallSequences(t *testing.T) {
	ctx := context.Background()
	pool := testDB(t)
	s := New(pool, Options{})
	id, other := newMenuID(t), newMenuID(t)
	day := time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	insertCall(t, pool, id, day.Add(10*time.Hour), "1", "3")
	insertCall(t, pool, id, day.Add(9*time.Hour), "2", "*", "#")
	insertCall(t, pool, id, day.Add(11*time.Hour), "hangup")
	insertCall(t, pool, id, day.Add(12*time.Hour), "1", "hangup")
	insertCall(t, pool, other, day.Add(10*time.Hour), "9") // another menu
	insertCall(t, pool, id, day.Add(-time.Minute), "7")    // the day before
	insertCall(t, pool, id, day.Add(24*time.Hour), "8")    // the next day (to is excluded)
	got, err := s.CallSequences(ctx, id, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2*#", "13", "h", "1h"} // by start time
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sequences %q, want %q", got, want)
	}
	// The dry run over those calls.
	if _, _, err := s.SaveDraft(ctx, doc(id, "waste"), "ala"); err != nil {
		t.Fatal(err)
	}
	from, to := day, day.Add(24*time.Hour)
	res, err := s.Replay(ctx, id, ReplayRequest{Version: 1, From: &from, To: &to})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != 4 || res.Reports[1].End.Queue != "waste" || res.Reports[2].End.Outcome != ivr.OutcomeCallerHangUp {
		t.Fatalf("replay %+v", res.Reports)
	}
}

// insertCall stores a call of menuID with its events: each key a dtmf event (and the IVR's
// ivr_digit, which must not count twice), "hangup" the caller hanging up.
func insertCall(t *testing.T, pool *pgxpool.Pool, menuID string, start time.Time, keys ...string) {
	t.Helper()
	ctx := context.Background()
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO calls (id, channel_id, started_at, menu_id)
		VALUES (gen_random_uuid(), 'ch-' || gen_random_uuid(), $1, $2) RETURNING id::text`, start, menuID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	seq := 0
	add := func(typ string, data map[string]any) {
		seq++
		if _, err := pool.Exec(ctx, `INSERT INTO call_events (call_id, seq, at, type, data) VALUES ($1, $2, $3, $4, $5)`,
			id, seq, start.Add(time.Duration(seq)*time.Second), typ, data); err != nil {
			t.Fatal(err)
		}
	}
	add("stasis_start", map[string]any{})
	add("ivr_start", map[string]any{"menu": menuID, "version": 1})
	for _, k := range keys {
		if k == "hangup" {
			add("caller_hangup", map[string]any{"how": "hangup"})
			continue
		}
		add("dtmf", map[string]any{"digit": k, "duration_ms": 120})
		add("ivr_digit", map[string]any{"node": "topics", "digit": k})
	}
}
