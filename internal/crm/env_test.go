package crm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/auth"
	"kontakt/internal/crm"
	"kontakt/internal/store"
	"kontakt/internal/testenv"
	"kontakt/internal/workcal"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

var warsaw = workcal.Warsaw()

// monday is a working Monday, 10:00 in Warsaw: the tests' clock starts there.
var monday = time.Date(2026, 5, 4, 10, 0, 0, 0, warsaw)

// env is one test's world: a transaction rolled back at the end, a service on it with a clock
// the test moves, the HTTP handler, and a user of each role.
type env struct {
	t     *testing.T
	ctx   context.Context
	tx    pgx.Tx
	now   time.Time
	svc   *crm.Service
	h     http.Handler
	store *store.Store

	consultant, consultant2, broker, supervisor, admin, roads, waste, civil auth.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), tx: testenv.Tx(t), now: monday}
	e.svc = crm.New(e.tx, crm.Options{Location: warsaw, Now: func() time.Time { return e.now }})
	e.h = crm.NewHandler(e.svc)
	e.store = store.New(e.tx, warsaw)
	user := func(login string, role auth.Role, unit string) auth.Principal {
		var id int64
		if err := e.tx.QueryRow(e.ctx, `INSERT INTO users (login, display_name, roles, unit) VALUES ($1, $1, $2, NULLIF($3, '')) RETURNING id`,
			login, []string{string(role)}, unit).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return auth.Principal{UserID: id, Login: login, Name: login, Roles: []auth.Role{role}, Unit: unit}
	}
	e.consultant = user("anna.k", auth.RoleConsultant, "")
	e.consultant2 = user("jan.n", auth.RoleConsultant, "")
	e.broker = user("ewa.b", auth.RoleBroker, "")
	e.supervisor = user("olga.s", auth.RoleSupervisor, "")
	e.admin = user("adam.a", auth.RoleAdministrator, "")
	e.roads = user("zdit.1", auth.RoleUnitWorker, "roads_transport")
	e.waste = user("zgo.1", auth.RoleUnitWorker, "waste_management")
	e.civil = user("wso.1", auth.RoleUnitWorker, "civil_affairs")
	return e
}

// resp is an HTTP answer: its status and its body, decoded.
type resp struct {
	Status int
	Body   []byte
	JSON   map[string]any
}

func (r resp) str(path string) string {
	v := r.get(path)
	s, _ := v.(string)
	return s
}

func (r resp) num(path string) float64 {
	f, _ := r.get(path).(float64)
	return f
}

// get reads a dotted path of the JSON body ("error.code", "items.0.number").
func (r resp) get(path string) any {
	var v any = r.JSON
	if r.JSON == nil {
		var arr []any
		if json.Unmarshal(r.Body, &arr) == nil {
			v = arr
		}
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (e *env) do(p *auth.Principal, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if p != nil {
		req = req.WithContext(auth.WithPrincipal(req.Context(), *p))
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := resp{Status: rec.Code, Body: rec.Body.Bytes()}
	_ = json.Unmarshal(r.Body, &r.JSON)
	return r
}

// must checks the status of an answer.
func (e *env) must(r resp, status int) resp {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// refused checks a refusal's status and error code.
func (e *env) refused(r resp, status int, code string) {
	e.t.Helper()
	if r.Status != status || r.str("error.code") != code {
		e.t.Fatalf("got %d %s, want %d %s: %s", r.Status, r.str("error.code"), status, code, r.Body)
	}
}

// act posts a lifecycle action.
func (e *env) act(p *auth.Principal, ref string, body map[string]any) resp {
	e.t.Helper()
	return e.do(p, "POST", "/api/v1/tickets/"+ref+"/actions", body)
}

// phoneDraft makes a call's draft ticket as the switchboard does, and returns its id.
func (e *env) phoneDraft(callID, caller string) string {
	e.t.Helper()
	tk, err := e.store.CreateCallWithTicket(e.ctx, store.NewCall{ID: store.CallID(callID), ChannelID: "ch-" + callID,
		Caller: caller, Called: "19115", StartedAt: e.now})
	if err != nil {
		e.t.Fatal(err)
	}
	return itoa(int64(tk.ID))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// create registers a ticket through the API and returns its id.
func (e *env) create(p *auth.Principal, body map[string]any) string {
	e.t.Helper()
	r := e.must(e.do(p, "POST", "/api/v1/tickets", body), http.StatusCreated)
	return itoa(int64(r.num("id")))
}

func (e *env) history(ref string) []string {
	e.t.Helper()
	r := e.must(e.do(&e.supervisor, "GET", "/api/v1/tickets/"+ref+"/history", nil), 200)
	var out []string
	for _, it := range r.get("items").([]any) {
		out = append(out, it.(map[string]any)["action"].(string))
	}
	return out
}
