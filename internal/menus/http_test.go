package menus

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kontakt/internal/auth"
	"kontakt/ivr"
)

// api serves the menu API; requests carry the principal given to do (none for nil).
type api struct {
	t   *testing.T
	srv *httptest.Server
	svc *Service
}

func newAPI(t *testing.T) *api {
	t.Helper()
	svc := New(testDB(t), Options{Renderer: &fakeRenderer{}})
	mux := http.NewServeMux()
	svc.Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if role := r.Header.Get("X-Test-Role"); role != "" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 7, Login: "user-" + role,
				Roles: []auth.Role{auth.Role(role)}}))
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, svc: svc}
}

// do sends a request as role ("" for nobody) and decodes the JSON answer into out (if not nil).
func (a *api) do(role auth.Role, method, path string, body []byte, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("X-Test-Role", string(role))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		a.t.Fatalf("%s %s: content type %q: %s", method, path, ct, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

type apiErr struct {
	Error struct {
		Code     string       `json:"code"`
		Message  string       `json:"message"`
		Problems ivr.Problems `json:"problems"`
	} `json:"error"`
}

func TestHTTPRoles(t *testing.T) {
	a := newAPI(t)
	id := newMenuID(t)
	v := mustSave(t, a.svc, doc(id, "waste"), "ala")
	base := "/api/v1/menus/" + id
	reads := []struct{ method, path string }{
		{"GET", base + "/versions"},
		{"GET", base + "/versions/1"},
		{"GET", base + "/audit"},
	}
	writes := []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/api/v1/menus/validate", doc(id, "waste")},
		{"POST", base + "/drafts", doc(id, "waste")},
		{"POST", base + "/versions/1/publish", nil},
		{"POST", base + "/rollback", []byte(`{"version": 1}`)},
	}
	var e apiErr
	for _, r := range reads {
		if code := a.do("", r.method, r.path, nil, &e); code != http.StatusUnauthorized || e.Error.Code != "unauthenticated" {
			t.Errorf("%s %s without a principal: %d %+v", r.method, r.path, code, e)
		}
		if code := a.do(auth.RoleConsultant, r.method, r.path, nil, &e); code != http.StatusForbidden || e.Error.Code != "forbidden" {
			t.Errorf("%s %s as consultant: %d", r.method, r.path, code)
		}
		for _, role := range []auth.Role{auth.RoleSupervisor, auth.RoleAdministrator} {
			if code := a.do(role, r.method, r.path, nil, nil); code != http.StatusOK {
				t.Errorf("%s %s as %s: %d", r.method, r.path, role, code)
			}
		}
	}
	for _, w := range writes {
		if code := a.do("", w.method, w.path, w.body, &e); code != http.StatusUnauthorized {
			t.Errorf("%s %s without a principal: %d", w.method, w.path, code)
		}
		for _, role := range []auth.Role{auth.RoleConsultant, auth.RoleSupervisor, auth.RoleUnitWorker} {
			if code := a.do(role, w.method, w.path, w.body, &e); code != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d", w.method, w.path, role, code)
			}
		}
	}
	// Nothing was written by the refused requests.
	if st := statuses(t, a.svc, id); len(st) != 1 || st[v.Version] != "draft" {
		t.Fatalf("statuses after refused writes %v", st)
	}
	// The administrator may write, and is the audited actor.
	for _, w := range writes {
		if code := a.do(auth.RoleAdministrator, w.method, w.path, w.body, nil); code != http.StatusOK && code != http.StatusCreated {
			t.Errorf("%s %s as administrator: %d", w.method, w.path, code)
		}
	}
	var audit struct{ Audit []Audit }
	a.do(auth.RoleSupervisor, "GET", base+"/audit", nil, &audit)
	var actions []string
	for _, x := range audit.Audit {
		actions = append(actions, x.Action+" by "+x.Actor)
	}
	want := "save_draft by ala|save_draft by user-administrator|publish by user-administrator|rollback by user-administrator"
	if strings.Join(actions, "|") != want {
		t.Fatalf("audit %q, want %q", actions, want)
	}
}

func TestHTTPValidateReturnsStructuredProblems(t *testing.T) {
	a := newAPI(t)
	var res struct {
		Valid    bool         `json:"valid"`
		Problems ivr.Problems `json:"problems"`
	}
	if code := a.do(auth.RoleAdministrator, "POST", "/api/v1/menus/validate", invalidDoc("x"), &res); code != http.StatusOK || res.Valid {
		t.Fatalf("%d %+v", code, res)
	}
	if len(res.Problems) != 3 || !res.Problems.Has("nodes.topics.options.0.next", ivr.CodeDanglingReference) ||
		!res.Problems.Has("nodes.topics.prompt.en", ivr.CodeMissingPrompt) || !res.Problems.Has("nodes.q1", ivr.CodeUnreachableNode) {
		t.Fatalf("problems %+v", res.Problems)
	}
	for _, p := range res.Problems {
		if p.Message == "" {
			t.Errorf("problem without a message: %+v", p)
		}
	}
	// Broken JSON is located by path, line and column.
	if code := a.do(auth.RoleAdministrator, "POST", "/api/v1/menus/validate", []byte("{\n \"format\": 1,\n \"id\": x\n}"), &res); code != http.StatusOK ||
		res.Valid || len(res.Problems) == 0 || res.Problems[0].Code != ivr.CodeSyntax || res.Problems[0].Path != "id" || res.Problems[0].Line == 0 {
		t.Fatalf("broken JSON: %d %+v", code, res)
	}
	// A valid one.
	if code := a.do(auth.RoleAdministrator, "POST", "/api/v1/menus/validate", doc("x", "waste"), &res); code != http.StatusOK ||
		!res.Valid || res.Problems == nil || len(res.Problems) != 0 {
		t.Fatalf("valid menu: %d %+v", code, res)
	}
}

func TestHTTPDraftsAndPublish(t *testing.T) {
	a := newAPI(t)
	id := newMenuID(t)
	base := "/api/v1/menus/" + id
	var saved struct {
		Version  Version      `json:"version"`
		Problems ivr.Problems `json:"problems"`
	}
	if code := a.do(auth.RoleAdministrator, "POST", base+"/drafts", doc(id, "waste"), &saved); code != http.StatusCreated ||
		saved.Version.Version != 1 || saved.Version.CreatedBy != "user-administrator" || len(saved.Problems) != 0 {
		t.Fatalf("save: %d %+v", code, saved)
	}
	// A draft with problems is saved with them; publishing it answers 422 with the problems.
	if code := a.do(auth.RoleAdministrator, "POST", base+"/drafts", invalidDoc(id), &saved); code != http.StatusCreated ||
		saved.Version.Version != 2 || len(saved.Problems) != 3 {
		t.Fatalf("save invalid: %d %+v", code, saved)
	}
	var e apiErr
	if code := a.do(auth.RoleAdministrator, "POST", base+"/versions/2/publish", nil, &e); code != http.StatusUnprocessableEntity ||
		e.Error.Code != "invalid_menu" || !e.Error.Problems.Has("nodes.topics.options.0.next", ivr.CodeDanglingReference) {
		t.Fatalf("publish invalid: %d %+v", code, e)
	}
	var v Version
	if code := a.do(auth.RoleAdministrator, "POST", base+"/versions/1/publish", nil, &v); code != http.StatusOK ||
		v.Status != "published" || v.PublishedBy != "user-administrator" {
		t.Fatalf("publish: %d %+v", code, v)
	}
	// The document's id must be the URL's menu; an unreadable document is refused.
	if code := a.do(auth.RoleAdministrator, "POST", base+"/drafts", doc("another", "waste"), &e); code != http.StatusBadRequest {
		t.Fatalf("wrong menu id: %d %+v", code, e)
	}
	if code := a.do(auth.RoleAdministrator, "POST", base+"/drafts", []byte(`{"id":`), &e); code != http.StatusUnprocessableEntity ||
		len(e.Error.Problems) == 0 {
		t.Fatalf("unreadable draft: %d %+v", code, e)
	}
	// Not found, bad numbers, a rollback to a draft.
	if code := a.do(auth.RoleAdministrator, "POST", base+"/versions/9/publish", nil, &e); code != http.StatusNotFound {
		t.Fatalf("publish missing: %d", code)
	}
	if code := a.do(auth.RoleSupervisor, "GET", base+"/versions/zero", nil, &e); code != http.StatusBadRequest {
		t.Fatalf("bad version: %d", code)
	}
	if code := a.do(auth.RoleAdministrator, "POST", base+"/rollback", []byte(`{"version": 2}`), &e); code != http.StatusConflict ||
		e.Error.Code != "not_published_before" {
		t.Fatalf("rollback to a draft: %d %+v", code, e)
	}
	// The list, newest first, and one version with its document.
	var list struct{ Versions []Version }
	if code := a.do(auth.RoleSupervisor, "GET", base+"/versions", nil, &list); code != http.StatusOK || len(list.Versions) != 2 ||
		list.Versions[0].Version != 2 || list.Versions[1].Status != "published" || list.Versions[0].Document != nil {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := a.do(auth.RoleSupervisor, "GET", base+"/versions/1", nil, &v); code != http.StatusOK || !bytes.Contains(v.Document, []byte(`"waste"`)) {
		t.Fatalf("get: %d %+v", code, v)
	}
}

func TestHTTPReplay(t *testing.T) {
	a := newAPI(t)
	id := newMenuID(t)
	mustSave(t, a.svc, doc(id, "waste"), "ala")
	mustSave(t, a.svc, doc(id, "roads"), "ala")
	base := "/api/v1/menus/" + id
	body, _ := json.Marshal(ReplayRequest{Version: 1, CompareTo: 2, Sequences: []string{"1", "w w w", "h"}})
	var res ReplayResult
	if code := a.do(auth.RoleSupervisor, "POST", base+"/replay", body, &res); code != http.StatusOK {
		t.Fatalf("replay: %d", code)
	}
	if len(res.Reports) != 3 || res.Reports[0].End.Queue != "waste" || res.Reports[2].End.Outcome != ivr.OutcomeCallerHangUp {
		t.Fatalf("reports %+v", res.Reports)
	}
	if len(res.Changes) != 1 || res.Changes[0].Sequence != "1" || res.Changes[0].After.End.Queue != "roads" || !res.Changes[0].EndChanged {
		t.Fatalf("changes %+v", res.Changes)
	}

	// The real calls of a range.
	day := time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	insertCall(t, testDB(t), id, day.Add(8*time.Hour), "1")
	to := day.Add(24 * time.Hour)
	body, _ = json.Marshal(ReplayRequest{Version: 2, From: &day, To: &to})
	res = ReplayResult{}
	if code := a.do(auth.RoleAdministrator, "POST", base+"/replay", body, &res); code != http.StatusOK ||
		len(res.Reports) != 1 || res.Reports[0].End.Queue != "roads" {
		t.Fatalf("real calls: %d %+v", code, res)
	}
	var e apiErr
	for _, bad := range []string{`{"version": 1}`, `{"sequences": ["1"]}`, `{"version": 1, "sequences": ["1"], "extra": 1}`, `not json`} {
		if code := a.do(auth.RoleSupervisor, "POST", base+"/replay", []byte(bad), &e); code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, code)
		}
	}
	if code := a.do(auth.RoleSupervisor, "POST", base+"/replay", []byte(`{"version": 9, "sequences": ["1"]}`), &e); code != http.StatusNotFound {
		t.Errorf("missing version: %d", code)
	}
	if code := a.do(auth.RoleConsultant, "POST", base+"/replay", []byte(`{"version": 1, "sequences": ["1"]}`), &e); code != http.StatusForbidden {
		t.Errorf("consultant replay: %d", code)
	}
}
