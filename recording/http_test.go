package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"kontakt/internal/auth"
)

// apiWorld is a fixture with the recordings API in front of it. Requests name their user in the
// test header X-Test-User (a login of the fixture); without it they are not signed in.
type apiWorld struct {
	*fixture
	h                   http.Handler
	own, purged, failed Recording
	audio               []byte
}

func newAPIWorld(t *testing.T, consultantsOwnCalls bool) *apiWorld {
	f := newFixture(t, func(o *Options) { o.ConsultantsOwnCalls = consultantsOwnCalls })
	w := &apiWorld{fixture: f}
	w.own = f.finalised(at("2026-05-04 09:00"), 2) // the consultant "konsultant" took it
	w.purged = f.finalised(at("2025-09-04 09:00"), 1)
	if _, err := f.a.Purge(f.ctx, at("2026-05-04 10:00"), false); err != nil {
		t.Fatal(err)
	}
	call, _ := f.call(at("2026-05-04 09:30"), "+48600100200")
	w.failed, _ = f.a.Fail(f.ctx, Meta{CallID: call, Agents: []int64{f.users["konsultant"]}}, "snoop channel could not be created")
	var err error
	if w.audio, err = os.ReadFile(f.archived(w.own)); err != nil {
		t.Fatal(err)
	}
	api := NewHandler(f.a)
	w.h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if login := r.Header.Get("X-Test-User"); login != "" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), f.principal(login)))
		}
		api.ServeHTTP(rw, r)
	})
	return w
}

// do serves one request in-process and returns the response.
func (w *apiWorld) do(method, target, user, body string, header ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = "192.0.2.7:51234"
	if user != "" {
		r.Header.Set("X-Test-User", user)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

func (w *apiWorld) accesses() int { return w.count(`SELECT count(*) FROM recording_access_log`) }

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) (string, map[string]string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error (%d): %s", rec.Code, rec.Body.String())
	}
	return e.Error.Code, e.Error.Fields
}

// TestAuthorisationMatrix tries every endpoint as every role (and as nobody), with consultants'
// access to their own calls off and on.
func TestAuthorisationMatrix(t *testing.T) {
	type endpoint struct {
		name, method, path, body string
		ownCalls                 bool // a consultant may use it on their own call when configured
		ok                       int
	}
	for _, ownCalls := range []bool{false, true} {
		t.Run(fmt.Sprintf("consultants_own_calls=%v", ownCalls), func(t *testing.T) {
			w := newAPIWorld(t, ownCalls)
			id := strconv.FormatInt(int64(w.own.ID), 10)
			userID := strconv.FormatInt(w.users["konsultant"], 10)
			endpoints := []endpoint{
				{"metadata", "GET", "/api/v1/recordings/" + id, "", true, 200},
				{"audio", "GET", "/api/v1/recordings/" + id + "/audio?purpose=quality", "", true, 200},
				{"download", "GET", "/api/v1/recordings/" + id + "/audio?purpose=complaint&download=1", "", true, 200},
				{"access log", "GET", "/api/v1/recordings/" + id + "/access-log", "", false, 200},
				{"user report", "GET", "/api/v1/users/" + userID + "/recording-access", "", false, 200},
				{"set hold", "POST", "/api/v1/recordings/" + id + "/hold", `{"reason": "complaint", "until": "2027-01-31T00:00:00+01:00"}`, false, 200},
				{"clear hold", "DELETE", "/api/v1/recordings/" + id + "/hold", `{"reason": "closed"}`, false, 200},
			}
			users := []struct {
				login string
				staff bool
				own   bool // took the call
			}{
				{"", false, false}, {"konsultant", false, true}, {"konsultant2", false, false}, {"broker", false, false},
				{"jednostka", false, false}, {"superwizor", true, false}, {"admin", true, false},
			}
			for _, e := range endpoints {
				for _, u := range users {
					want := http.StatusForbidden
					switch {
					case u.login == "":
						want = http.StatusUnauthorized
					case u.staff, e.ownCalls && ownCalls && u.own:
						want = e.ok
					}
					before := w.accesses()
					rec := w.do(e.method, e.path, u.login, e.body)
					if rec.Code != want {
						t.Errorf("%s as %q: %d, want %d: %s", e.name, u.login, rec.Code, want, rec.Body.String())
						continue
					}
					logged := w.accesses() - before
					served := bytes.HasPrefix(rec.Body.Bytes(), []byte("RIFF"))
					if served != (logged == 1) || logged > 1 {
						t.Errorf("%s as %q: audio served %v, accesses logged %d", e.name, u.login, served, logged)
					}
					if want != e.ok {
						errorCode(t, rec)
					}
				}
			}
		})
	}
}

func TestAudioIsLoggedBeforeTheFirstByte(t *testing.T) {
	w := newAPIWorld(t, false)
	target := fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=complaint", w.own.ID)

	// The log write fails: nothing is served.
	sp, err := w.tx.Begin(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Exec(w.ctx, `CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'disk full'; END $$;
		CREATE TRIGGER test_refuse BEFORE INSERT ON recording_access_log FOR EACH ROW EXECUTE FUNCTION test_refuse()`); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]string{nil, {"Range", "bytes=0-99"}} {
		rec := w.do("GET", target, "superwizor", "", h...)
		if code, _ := errorCode(t, rec); rec.Code != http.StatusServiceUnavailable || code != "audit_unavailable" {
			t.Fatalf("with the log failing: %d %s", rec.Code, rec.Body.String())
		}
		if bytes.Contains(rec.Body.Bytes(), w.audio[:44]) || bytes.Contains(rec.Body.Bytes(), []byte("RIFF")) ||
			rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatal("audio bytes were served without a logged access")
		}
	}
	if err := sp.Rollback(w.ctx); err != nil {
		t.Fatal(err)
	}

	// The log works: the entry is committed before the first byte is written.
	var checked bool
	rw := &firstWrite{ResponseRecorder: httptest.NewRecorder(), before: func() {
		checked = true
		if n := w.accesses(); n != 1 {
			t.Errorf("%d access log entries when the first byte was written, want 1", n)
		}
	}}
	r := httptest.NewRequest("GET", target, nil)
	r = r.WithContext(auth.WithPrincipal(r.Context(), w.principal("superwizor")))
	NewHandler(w.a).ServeHTTP(rw, r)
	if !checked || rw.Code != http.StatusOK || !bytes.Equal(rw.Body.Bytes(), w.audio) {
		t.Fatalf("served %d, %d bytes (checked %v)", rw.Code, rw.Body.Len(), checked)
	}
}

// firstWrite calls before when the handler writes the response's first byte.
type firstWrite struct {
	*httptest.ResponseRecorder
	before func()
	done   bool
}

func (f *firstWrite) Write(b []byte) (int, error) {
	if !f.done {
		f.done = true
		f.before()
	}
	return f.ResponseRecorder.Write(b)
}

func TestRangeRequests(t *testing.T) {
	w := newAPIWorld(t, false)
	target := fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=quality", w.own.ID)
	n := len(w.audio)
	for _, tc := range []struct {
		rng   string
		code  int
		first int
		last  int // inclusive
	}{
		{"bytes=0-43", http.StatusPartialContent, 0, 43},
		{"bytes=1000-1999", http.StatusPartialContent, 1000, 1999},
		{"bytes=-100", http.StatusPartialContent, n - 100, n - 1},
		{"bytes=30000-", http.StatusPartialContent, 30000, n - 1},
		{"bytes=999999-", http.StatusRequestedRangeNotSatisfiable, 0, -1},
		{"", http.StatusOK, 0, n - 1},
	} {
		var rec *httptest.ResponseRecorder
		if tc.rng == "" {
			rec = w.do("GET", target, "admin", "")
		} else {
			rec = w.do("GET", target, "admin", "", "Range", tc.rng)
		}
		if rec.Code != tc.code {
			t.Errorf("Range %q: %d, want %d", tc.rng, rec.Code, tc.code)
			continue
		}
		if tc.last >= 0 {
			if !bytes.Equal(rec.Body.Bytes(), w.audio[tc.first:tc.last+1]) {
				t.Errorf("Range %q: %d bytes, not bytes %d-%d of the file", tc.rng, rec.Body.Len(), tc.first, tc.last)
			}
			if tc.code == http.StatusPartialContent {
				if cr := rec.Header().Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/%d", tc.first, tc.last, n) {
					t.Errorf("Range %q: Content-Range %q", tc.rng, cr)
				}
			}
		}
		// Every request, partial or not, is an access with its range.
		var ranges, action, purpose, ip string
		var user int64
		if err := w.tx.QueryRow(w.ctx, `SELECT coalesce(ranges, ''), action, purpose, host(client_ip), user_id
			FROM recording_access_log ORDER BY id DESC LIMIT 1`).Scan(&ranges, &action, &purpose, &ip, &user); err != nil {
			t.Fatal(err)
		}
		if ranges != tc.rng || action != "listen" || purpose != "quality" || ip != "192.0.2.7" || user != w.users["admin"] {
			t.Errorf("Range %q logged as %q %s %s %s %d", tc.rng, ranges, action, purpose, ip, user)
		}
	}
	if got := w.accesses(); got != 6 {
		t.Errorf("%d accesses logged, want 6", got)
	}
	// Two ranges at once: a multipart answer.
	rec := w.do("GET", target, "admin", "", "Range", "bytes=0-9,100-109")
	if rec.Code != http.StatusPartialContent || !strings.HasPrefix(rec.Header().Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("two ranges: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestDownloadIsMarkedAndTraceable(t *testing.T) {
	w := newAPIWorld(t, false)
	rec := w.do("GET", fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=data_subject_request&download=1", w.own.ID), "superwizor", "")
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), w.audio) {
		t.Fatalf("download: %d", rec.Code)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename=recording-%d.wav`, w.own.ID) {
		t.Errorf("Content-Disposition %q", cd)
	}
	var id int64
	var action, purpose string
	if err := w.tx.QueryRow(w.ctx, `SELECT id, action, purpose FROM recording_access_log ORDER BY id DESC LIMIT 1`).Scan(&id, &action, &purpose); err != nil {
		t.Fatal(err)
	}
	if action != "download" || purpose != "data_subject_request" || rec.Header().Get("X-Kontakt-Access-Id") != strconv.FormatInt(id, 10) {
		t.Errorf("logged %s %s #%d, header %s", action, purpose, id, rec.Header().Get("X-Kontakt-Access-Id"))
	}
	if rec.Header().Get("Cache-Control") != "private, no-store" || rec.Header().Get("Content-Type") != "audio/wav" {
		t.Errorf("headers %v", rec.Header())
	}
	listen := w.do("GET", fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=quality", w.own.ID), "superwizor", "")
	if cd := listen.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") {
		t.Errorf("listening: Content-Disposition %q", cd)
	}
}

func TestAudioRequestsThatServeNothing(t *testing.T) {
	w := newAPIWorld(t, false)
	base := fmt.Sprintf("/api/v1/recordings/%d/audio", w.own.ID)
	for _, tc := range []struct {
		name, target string
		code         int
		errCode      string
		field        string
	}{
		{"no purpose", base, 400, "invalid_request", "purpose"},
		{"unknown purpose", base + "?purpose=curiosity", 400, "invalid_request", "purpose"},
		{"bad download flag", base + "?purpose=quality&download=yes", 400, "invalid_request", "download"},
		{"purged", fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=legal", w.purged.ID), 410, "purged", ""},
		{"failed", fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=legal", w.failed.ID), 409, "failed", ""},
		{"no such recording", "/api/v1/recordings/987654/audio?purpose=legal", 404, "not_found", ""},
		{"not an id", "/api/v1/recordings/abc/audio?purpose=legal", 400, "invalid_request", "id"},
	} {
		rec := w.do("GET", tc.target, "superwizor", "")
		code, fields := errorCode(t, rec)
		if rec.Code != tc.code || code != tc.errCode || (tc.field != "" && fields[tc.field] == "") {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body.String())
		}
	}
	// The file vanished from the archive: an error, not an empty 200.
	os.Remove(w.archived(w.own))
	rec := w.do("GET", base+"?purpose=quality", "superwizor", "")
	if code, _ := errorCode(t, rec); rec.Code != 500 || code != "file_unavailable" {
		t.Errorf("missing file: %d %s", rec.Code, rec.Body.String())
	}
	if n := w.accesses(); n != 0 {
		t.Errorf("%d accesses logged for requests that served nothing", n)
	}
}

func TestMetadataAndAccessReports(t *testing.T) {
	w := newAPIWorld(t, true)
	rec := w.do("GET", fmt.Sprintf("/api/v1/recordings/%d", w.own.ID), "konsultant", "")
	var meta map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &meta); err != nil || rec.Code != 200 {
		t.Fatalf("metadata: %d %s", rec.Code, rec.Body.String())
	}
	for _, k := range []string{"id", "call_id", "ticket_id", "leg", "agent_user_ids", "state", "started_at", "duration_ms", "bytes",
		"format", "sha256", "pauses", "retention_until"} {
		if _, ok := meta[k]; !ok {
			t.Errorf("metadata lacks %s: %s", k, rec.Body.String())
		}
	}
	if _, ok := meta["storage_path"]; ok {
		t.Error("metadata shows the storage path")
	}
	w.do("GET", fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=quality", w.own.ID), "konsultant", "")
	w.do("GET", fmt.Sprintf("/api/v1/recordings/%d/audio?purpose=complaint", w.own.ID), "superwizor", "", "Range", "bytes=0-1")

	rec = w.do("GET", fmt.Sprintf("/api/v1/recordings/%d/access-log", w.own.ID), "admin", "")
	var log struct {
		Entries []AccessEntry `json:"entries"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &log); err != nil || rec.Code != 200 || len(log.Entries) != 2 {
		t.Fatalf("access log: %d %s", rec.Code, rec.Body.String())
	}
	if e := log.Entries[1]; e.Login != "superwizor" || e.Purpose != PurposeComplaint || e.Ranges != "bytes=0-1" || e.ClientIP != "192.0.2.7" {
		t.Errorf("entry %+v", e)
	}
	user := w.users["konsultant"]
	rec = w.do("GET", fmt.Sprintf("/api/v1/users/%d/recording-access", user), "superwizor", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &log); err != nil || rec.Code != 200 || len(log.Entries) != 1 || log.Entries[0].UserID != user {
		t.Fatalf("user report: %d %s", rec.Code, rec.Body.String())
	}
	rec = w.do("GET", fmt.Sprintf("/api/v1/users/%d/recording-access?since=2099-01-01T00:00:00Z", user), "superwizor", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &log); err != nil || len(log.Entries) != 0 {
		t.Fatalf("user report since 2099: %s", rec.Body.String())
	}
	rec = w.do("GET", fmt.Sprintf("/api/v1/users/%d/recording-access?since=yesterday&limit=0", user), "superwizor", "")
	if code, fields := errorCode(t, rec); rec.Code != 400 || code != "invalid_request" || fields["since"] == "" || fields["limit"] == "" {
		t.Errorf("bad report parameters: %d %s", rec.Code, rec.Body.String())
	}
	rec = w.do("GET", "/api/v1/users/987654/recording-access", "superwizor", "")
	if rec.Code != 404 {
		t.Errorf("report on an unknown user: %d", rec.Code)
	}
}

func TestHoldAPI(t *testing.T) {
	w := newAPIWorld(t, false)
	path := fmt.Sprintf("/api/v1/recordings/%d/hold", w.own.ID)
	for _, tc := range []struct {
		body  string
		field string
	}{
		{``, "reason"},
		{`{"reason": "complaint"}`, "until"},
		{`{"reason": "complaint", "until": "next week"}`, "until"},
		{`{"reason": "complaint", "until": "2020-01-01T00:00:00Z"}`, "until"},
		{`{"reason": "", "until": "2027-01-01T00:00:00Z"}`, "reason"},
		{`{"reason": "x", "until": "2027-01-01T00:00:00Z", "by": 1}`, "by"},
		{`[1, 2]`, "(body)"},
		{`{"reason": "x", "until": "2027-01-01T00:00:00Z"} {}`, "(body)"},
	} {
		rec := w.do("POST", path, "superwizor", tc.body)
		if code, fields := errorCode(t, rec); rec.Code != 400 || code != "invalid_request" || fields[tc.field] == "" {
			t.Errorf("hold %s: %d %s", tc.body, rec.Code, rec.Body.String())
		}
	}
	rec := w.do("POST", path, "superwizor", `{"reason": "complaint 2026/000042", "until": "2027-01-31T00:00:00+01:00"}`)
	var got Recording
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || got.Hold == nil ||
		got.Hold.Reason != "complaint 2026/000042" || got.Hold.By != w.users["superwizor"] {
		t.Fatalf("set hold: %d %s", rec.Code, rec.Body.String())
	}
	rec = w.do("DELETE", path, "admin", `{"until": "2027-01-31T00:00:00+01:00"}`)
	if _, fields := errorCode(t, rec); rec.Code != 400 || fields["until"] == "" {
		t.Errorf("clear with until: %d %s", rec.Code, rec.Body.String())
	}
	rec = w.do("DELETE", path, "admin", "")
	got = Recording{}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || got.Hold != nil {
		t.Fatalf("clear hold: %d %s", rec.Code, rec.Body.String())
	}
	rec = w.do("POST", fmt.Sprintf("/api/v1/recordings/%d/hold", w.purged.ID), "admin", `{"reason": "late", "until": "2027-01-31T00:00:00+01:00"}`)
	if code, _ := errorCode(t, rec); rec.Code != 410 || code != "purged" {
		t.Errorf("hold on a purged recording: %d %s", rec.Code, rec.Body.String())
	}
}

func FuzzDecodeHoldRequest(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"reason": "complaint", "until": "2027-01-31T00:00:00+01:00"}`,
		`{"reason": 1}`, `{"until": null}`, `[]`, `{"reason": "x"} {}`, `{"reason": "\u0000"}`} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, set bool) {
		req, fields := DecodeHoldRequest(body, set)
		if fields != nil {
			if len(fields) == 0 {
				t.Fatal("an empty problem list")
			}
			return
		}
		if set && (req.Reason == "" || req.Until.IsZero()) {
			t.Fatalf("a set without reason or until accepted: %q", body)
		}
		if len(req.Reason) > MaxHoldReason || strings.TrimSpace(req.Reason) != req.Reason {
			t.Fatalf("reason not checked: %q", req.Reason)
		}
	})
}
