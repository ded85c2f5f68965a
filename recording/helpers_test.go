package recording

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"kontakt/internal/auth"
	"kontakt/internal/store"
	"kontakt/internal/testenv"
	"kontakt/internal/workcal"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

var waw = workcal.Warsaw()

// at is a wall-clock time in Warsaw: at("2026-03-15 10:00").
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, waw)
	if err != nil {
		panic(err)
	}
	return t
}

// requireSox fails under CI=true and skips elsewhere when sox is missing.
func requireSox(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sox"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and sox is not installed (run scripts/install-deps.sh)")
		}
		t.Skip("sox is not installed (run scripts/install-deps.sh)")
	}
}

// sox makes an audio file: by default 8 kHz 16-bit mono WAV of a 440 Hz tone, like Asterisk's
// wav recordings; format arguments (e.g. "-e", "u-law") come before the file name.
func sox(t testing.TB, path string, seconds float64, format ...string) string {
	t.Helper()
	requireSox(t)
	if len(format) == 0 {
		format = []string{"-b", "16"}
	}
	args := append([]string{"-n", "-r", "8000", "-c", "1"}, format...)
	args = append(args, path, "synth", strconv.FormatFloat(seconds, 'f', -1, 64), "sine", "440")
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, out)
	}
	return path
}

func fileSHA(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// fixture is a test's database transaction, archive, spool directory and clock.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	tx     pgx.Tx
	st     *store.Store
	a      *Archive
	root   string // the archive
	spool  string // Asterisk's recording directory
	now    time.Time
	users  map[string]int64 // by login
	logBuf *bytes.Buffer
}

func newFixture(t *testing.T, opts ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), tx: testenv.Tx(t), root: filepath.Join(t.TempDir(), "archive"),
		spool: t.TempDir(), now: at("2026-05-04 10:00"), users: map[string]int64{}, logBuf: &bytes.Buffer{}}
	f.st = store.New(f.tx, waw)
	o := Options{Root: f.root, Policy: DefaultPolicy(), Actor: "test", Now: func() time.Time { return f.now },
		Logger: slog.New(slog.NewTextHandler(f.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, fn := range opts {
		fn(&o)
	}
	a, err := New(f.tx, o)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	for _, u := range fixtureUsers {
		var id int64
		if err := f.tx.QueryRow(f.ctx, `INSERT INTO users (login, display_name, roles) VALUES ($1, $1, $2) RETURNING id`,
			u.login, []string{string(u.role)}).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.users[u.login] = id
	}
	return f
}

// fixtureUsers are the users every fixture has. (A unit worker needs a unit, which is the auth
// schema's business: tests make unit workers' principals without a row; they never reach the
// database.)
var fixtureUsers = []struct {
	login string
	role  auth.Role
}{
	{"konsultant", auth.RoleConsultant}, {"konsultant2", auth.RoleConsultant}, {"broker", auth.RoleBroker},
	{"superwizor", auth.RoleSupervisor}, {"admin", auth.RoleAdministrator},
}

// principal returns the principal of a fixture user, or of a unit worker ("jednostka").
func (f *fixture) principal(login string) auth.Principal {
	if login == "jednostka" {
		return auth.Principal{UserID: 999999, Login: login, Roles: []auth.Role{auth.RoleUnitWorker}, Unit: "roads_transport"}
	}
	for _, u := range fixtureUsers {
		if u.login == login {
			return auth.Principal{UserID: f.users[login], Login: login, Name: login, Roles: []auth.Role{u.role}}
		}
	}
	f.t.Fatalf("no fixture user %s", login)
	return auth.Principal{}
}

// call creates a resident's call and its ticket, registered at registered.
func (f *fixture) call(registered time.Time, caller string) (store.CallID, store.Ticket) {
	f.t.Helper()
	id := store.CallID(uuid.NewString())
	tk, err := f.st.CreateCallWithTicket(f.ctx, store.NewCall{ID: id, ChannelID: "ch-" + string(id), Caller: caller,
		Called: "19115", StartedAt: registered, Description: "Zgłoszenie od " + caller})
	if err != nil {
		f.t.Fatal(err)
	}
	return id, tk
}

// finalised records a leg of a new call registered at registered: a sox file finalised into the
// archive, with the consultant as the agent.
func (f *fixture) finalised(registered time.Time, seconds float64) Recording {
	f.t.Helper()
	call, _ := f.call(registered, "+48600100200")
	return f.finaliseLeg(call, registered, seconds)
}

func (f *fixture) finaliseLeg(call store.CallID, started time.Time, seconds float64) Recording {
	f.t.Helper()
	spool := sox(f.t, filepath.Join(f.spool, fmt.Sprintf("%s-%d.wav", call, started.UnixNano())), seconds)
	rec, err := f.a.Begin(f.ctx, Meta{CallID: call, Agents: []int64{f.users["konsultant"]}, StartedAt: started, SpoolFile: spool})
	if err != nil {
		f.t.Fatal(err)
	}
	rec, err = f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: rec.Leg, EndedAt: started.Add(time.Duration(seconds * float64(time.Second)))})
	if err != nil {
		f.t.Fatal(err)
	}
	if rec.State != StateFinalised {
		f.t.Fatalf("recording %d is %s: %s", rec.ID, rec.State, rec.FailureReason)
	}
	return rec
}

// archived is the absolute path of a recording's archived file.
func (f *fixture) archived(r Recording) string { return filepath.Join(f.root, r.StoragePath) }

func (f *fixture) get(id ID) Recording {
	f.t.Helper()
	r, err := f.a.Get(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.tx.QueryRow(f.ctx, sql, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
