package open311_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/crm"
	"kontakt/internal/crm/open311"
	"kontakt/internal/testenv"
	"kontakt/internal/ticket"
	"kontakt/internal/workcal"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

const key = "test-portal-key"

type env struct {
	t   *testing.T
	tx  pgx.Tx
	svc *crm.Service
	h   http.Handler
	now time.Time
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, now: time.Date(2026, 5, 4, 10, 0, 0, 0, workcal.Warsaw())}
	e.tx = testenv.Tx(t)
	e.svc = crm.New(e.tx, crm.Options{Location: workcal.Warsaw(), Now: func() time.Time { return e.now }})
	if _, err := e.svc.EnsureOpen311Client(context.Background(), "Portal", ticket.ChannelWebForm, key); err != nil {
		t.Fatal(err)
	}
	e.h = open311.NewHandler(e.svc, open311.Options{Jurisdiction: "lodz.pl"})
	return e
}

func (e *env) get(path string) (int, []byte) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.Bytes()
}

func (e *env) post(path string, form url.Values) (int, []byte) {
	e.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// jsonShape lists the paths of keys in a JSON document: objects' keys, array elements as [].
func jsonShape(t *testing.T, b []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				set[prefix+"/"+k] = true
				walk(prefix+"/"+k, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix+"[]", c)
			}
		}
	}
	walk("", v)
	return keys(set)
}

// xmlShape lists the paths of elements in an XML document.
func xmlShape(t *testing.T, b []byte) []string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0"`)) {
		t.Fatalf("no XML declaration: %s", b)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	set := map[string]bool{}
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v: %s", err, b)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			stack = append(stack, x.Name.Local)
			set[strings.Join(stack, "/")] = true
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return keys(set)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// conforms checks that an answer has the elements of the specification's example, and no
// others but the extras named.
func conforms(t *testing.T, example string, body []byte, extra ...string) {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("testdata", "spec", example))
	if err != nil {
		t.Fatal(err)
	}
	shape := jsonShape
	if strings.HasSuffix(example, ".xml") {
		shape = xmlShape
	}
	want, got := shape(t, spec), shape(t, body)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: the answer lacks %s:\n%s", example, w, body)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) && !slices.ContainsFunc(extra, func(x string) bool { return strings.HasSuffix(g, x) }) {
			t.Errorf("%s: the answer has %s, which the specification does not", example, g)
		}
	}
}

func TestServicesConform(t *testing.T) {
	e := newEnv(t)
	for _, f := range []string{"json", "xml"} {
		code, body := e.get("/open311/v2/services." + f + "?jurisdiction_id=lodz.pl")
		if code != 200 {
			t.Fatalf("services.%s: %d %s", f, code, body)
		}
		conforms(t, "services."+f, body)
		if !bytes.Contains(body, []byte("Dziura w jezdni")) || bytes.Contains(body, []byte("out_of_scope")) {
			t.Errorf("services.%s: want the categories but out of scope: %s", f, body)
		}
	}
	var svcs []open311.Service
	_, body := e.get("/open311/v2/services.json")
	json.Unmarshal(body, &svcs)
	for _, s := range svcs {
		if s.Code == "stray_animal" && (!s.Metadata || s.Group != "Zwierzęta" || s.Type != "realtime") {
			t.Errorf("stray_animal: %+v", s)
		}
	}
	// Definitions: attributes with values; a service without them has none.
	for _, f := range []string{"json", "xml"} {
		code, body := e.get("/open311/v2/services/stray_animal." + f)
		if code != 200 {
			t.Fatalf("definition.%s: %d %s", f, code, body)
		}
		conforms(t, "definition."+f, body)
	}
	code, body := e.get("/open311/v2/services/nope.json")
	if code != 404 {
		t.Fatalf("unknown service: %d %s", code, body)
	}
	conforms(t, "errors.json", body)
	code, body = e.get("/open311/v2/services.json?jurisdiction_id=warszawa.pl")
	if code != 404 {
		t.Fatalf("other jurisdiction: %d %s", code, body)
	}
	if code, _ := e.get("/open311/v2/services.csv"); code != 404 {
		t.Fatalf("csv: %d", code)
	}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestFileAndReadRequest(t *testing.T) {
	e := newEnv(t)
	f := form("api_key", key, "jurisdiction_id", "lodz.pl", "service_code", "stray_animal", "lat", "51.7530", "long", "19.4590",
		"address_string", "ul. Piotrkowska 182, Łódź", "email", "anna@example.pl", "first_name", "Anna", "last_name", "Kowalska",
		"phone", "+48600100200", "description", "Pies bez obroży przy placu zabaw", "media_url", "https://example.pl/pies.jpg",
		"attribute[animal]", "dog", "attribute[aggressive]", "no", "device_id", "abc")
	code, body := e.post("/open311/v2/requests.json", f)
	if code != http.StatusCreated {
		t.Fatalf("post: %d %s", code, body)
	}
	conforms(t, "post.json", body, "/token")
	var created []open311.Created
	json.Unmarshal(body, &created)
	id, token := created[0].ID, created[0].Token
	if !strings.HasPrefix(id, "2026-") || token == "" {
		t.Fatalf("created: %s", body)
	}
	// It is a ticket: web form (the client's channel), the category's kind, unit and due time,
	// registered by the system.
	n, _ := open311.ParseID(id)
	tk, err := e.svc.TicketByNumber(context.Background(), ticket.Actor{Role: ticket.RoleSupervisor, User: 1}, n)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Channel != ticket.ChannelWebForm || tk.Kind != ticket.KindIntervention || tk.Category != "stray_animal" ||
		tk.CallerName != "Anna Kowalska" || tk.Attributes["animal"] != "dog" || tk.Due.IsZero() || tk.Owner != 0 {
		t.Fatalf("ticket: %+v", tk)
	}
	for _, f := range []string{"json", "xml"} {
		code, body := e.get("/open311/v2/requests/" + id + "." + f)
		if code != 200 {
			t.Fatalf("request.%s: %d %s", f, code, body)
		}
		conforms(t, "requests."+f, body)
		for _, private := range []string{"anna@example.pl", "+48600100200", "Kowalska"} {
			if bytes.Contains(body, []byte(private)) {
				t.Errorf("request.%s shows %q: %s", f, private, body)
			}
		}
		code, body = e.get("/open311/v2/tokens/" + token + "." + f)
		if code != 200 || !bytes.Contains(body, []byte(id)) {
			t.Fatalf("token.%s: %d %s", f, code, body)
		}
		conforms(t, "token."+f, body)
	}
	var got []open311.Request
	_, body = e.get("/open311/v2/requests/" + strings.Replace(id, "-", "", 1) + ".json")
	json.Unmarshal(body, &got)
	if len(got) != 1 || got[0].Status != "open" || got[0].ServiceCode != "stray_animal" || got[0].AgencyResponsible != "" ||
		got[0].Description != "Pies bez obroży przy placu zabaw" || got[0].Lat == nil || got[0].Expected == "" {
		t.Fatalf("by keypad id: %s", body)
	}
	// Lists with filters.
	list := func(q string) []open311.Request {
		t.Helper()
		code, body := e.get("/open311/v2/requests.json?" + q)
		if code != 200 {
			t.Fatalf("requests?%s: %d %s", q, code, body)
		}
		var rs []open311.Request
		json.Unmarshal(body, &rs)
		return rs
	}
	if rs := list("service_code=stray_animal,pothole&status=open"); len(rs) != 1 || rs[0].ID != id {
		t.Fatalf("open stray animals: %+v", rs)
	}
	if rs := list("status=closed"); len(rs) != 0 {
		t.Fatalf("closed: %+v", rs)
	}
	if rs := list("start_date=2026-05-05T00:00:00Z"); len(rs) != 0 {
		t.Fatalf("after it: %+v", rs)
	}
	if rs := list("service_request_id=" + id + ",2026-999999"); len(rs) != 1 {
		t.Fatalf("by ids: %+v", rs)
	}
	for _, f := range []string{"json", "xml"} {
		code, body := e.get("/open311/v2/requests." + f)
		if code != 200 {
			t.Fatalf("requests.%s: %d", f, code)
		}
		conforms(t, "requests."+f, body)
	}
	code, body = e.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z&status=pending")
	if code != 400 || bytes.Count(body, []byte(`"code":400`)) != 2 {
		t.Fatalf("bad filters: %d %s", code, body)
	}
	if code, _ := e.get("/open311/v2/requests/2026-999999.json"); code != 404 {
		t.Fatalf("unknown request: %d", code)
	}
	if code, _ := e.get("/open311/v2/tokens/nope.xml"); code != 404 {
		t.Fatalf("unknown token: %d", code)
	}
}

func TestPostErrors(t *testing.T) {
	e := newEnv(t)
	for _, f := range []string{"json", "xml"} {
		code, body := e.post("/open311/v2/requests."+f, form("service_code", "pothole", "lat", "51.75", "long", "19.45"))
		if code != 403 {
			t.Fatalf("no api_key: %d %s", code, body)
		}
		conforms(t, "errors."+f, body)
	}
	cases := []struct {
		name  string
		form  url.Values
		code  int
		count int
		want  string
	}{
		{"bad key", form("api_key", "nope", "service_code", "pothole", "lat", "51.75", "long", "19.45"), 403, 1, "api_key"},
		{"nothing", form("api_key", key), 400, 2, "service_code"},
		{"lat without long", form("api_key", key, "service_code", "pothole", "lat", "91"), 400, 2, "lat"},
		{"unknown service", form("api_key", key, "service_code", "unicorns", "address_string", "Piotrkowska 1"), 400, 1, "unicorns"},
		{"required attribute", form("api_key", key, "service_code", "stray_animal", "address_string", "Piotrkowska 1"), 400, 1, "attribute[animal]"},
		{"wrong value", form("api_key", key, "service_code", "stray_animal", "address_string", "Piotrkowska 1", "attribute[animal]", "dragon",
			"attribute[colour]", "red"), 400, 2, "dragon"},
		{"bad email", form("api_key", key, "service_code", "pothole", "address_string", "Piotrkowska 1", "email", "no"), 400, 1, "email"},
		{"long description", form("api_key", key, "service_code", "pothole", "address_id", "x", "description", strings.Repeat("x", 4001)), 400, 1, "4,000"},
	}
	for _, c := range cases {
		code, body := e.post("/open311/v2/requests.json", c.form)
		if code != c.code || bytes.Count(body, []byte(`"code":`)) != c.count || !bytes.Contains(body, []byte(c.want)) {
			t.Errorf("%s: %d %s, want %d with %d errors naming %s", c.name, code, body, c.code, c.count, c.want)
		}
	}
	// The mobile app's client files with its own channel; an address alone is a location.
	_, err := e.svc.EnsureOpen311Client(context.Background(), "App", ticket.ChannelMobileApp, "app-key")
	if err != nil {
		t.Fatal(err)
	}
	code, body := e.post("/open311/v2/requests.xml", form("api_key", "app-key", "service_code", "pothole", "address_string", "ul. Piotrkowska 1"))
	if code != 201 {
		t.Fatalf("app: %d %s", code, body)
	}
	conforms(t, "post.xml", body, "/token")
	page, err := e.svc.ListTickets(context.Background(), ticket.Actor{Role: ticket.RoleSupervisor, User: 1}, crm.Filter{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Channel != ticket.ChannelMobileApp || page.Items[0].Address.Street != "Piotrkowska" {
		t.Fatalf("app's ticket: %+v %v", page.Items, err)
	}
}

// Information requests asked by phone or e-mail stay private; interventions are public without
// the consultant's notes.
func TestPrivacyOfOtherChannels(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var uid int64
	if err := e.tx.QueryRow(ctx, `INSERT INTO users (login, roles) VALUES ('anna.k', '{consultant}') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	consultant := ticket.Actor{Role: ticket.RoleConsultant, User: ticket.UserID(uid)}
	info, err := e.svc.CreateTicket(ctx, consultant, crm.NewTicket{Channel: ticket.ChannelEmail, Category: "id_card",
		Description: "Pytanie o dowód syna, PESEL 90010112345"})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.get("/open311/v2/requests/" + open311.ID(info.Number) + ".json"); code != 404 {
		t.Fatalf("a private information request is public: %d %s", code, body)
	}
	hole, err := e.svc.CreateTicket(ctx, consultant, crm.NewTicket{Channel: ticket.ChannelEmail, Category: "pothole",
		Description: "Pisała pani z Piotrkowskiej 5 m. 3", Address: crm.Address{Text: "ul. Piotrkowska 7"}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := e.get("/open311/v2/requests/" + open311.ID(hole.Number) + ".json")
	if code != 200 || bytes.Contains(body, []byte("m. 3")) || !bytes.Contains(body, []byte("Piotrkowska 7")) {
		t.Fatalf("an intervention by e-mail: %d %s", code, body)
	}
	// Closed once the unit reported and the consultant closed it, with the unit's report.
	now := e.now
	if _, err := e.svc.Act(ctx, consultant, hole.ID, crm.ActionRequest{Action: ticket.ActionForward}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Act(ctx, consultant, hole.ID, crm.ActionRequest{Action: ticket.ActionReport, How: "Ubytek załatany.", When: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Act(ctx, consultant, hole.ID, crm.ActionRequest{Action: ticket.ActionClose}); err != nil {
		t.Fatal(err)
	}
	_, body = e.get("/open311/v2/requests/" + open311.ID(hole.Number) + ".json")
	var rs []open311.Request
	json.Unmarshal(body, &rs)
	if rs[0].Status != "closed" || rs[0].StatusNotes != "Ubytek załatany." || rs[0].AgencyResponsible != "Zarząd Dróg i Transportu" {
		t.Fatalf("closed: %s", body)
	}
}
