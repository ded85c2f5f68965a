package agentd

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestUIPlaceholderAndFiles(t *testing.T) {
	srv := NewServer(Options{Calls: newFakeCalls(), UI: fstest.MapFS{"placeholder.html": {Data: []byte("x")}}})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/agent/", nil))
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, "agentd/web/build.sh") {
		t.Fatalf("placeholder: %d %q", rec.Code, body)
	}

	built := fstest.MapFS{
		"index.html":       {Data: []byte("<!doctype html><title>desk</title>")},
		"assets/app-1.js":  {Data: []byte("console.log(1)")},
		"placeholder.html": {Data: []byte("x")},
	}
	srv = NewServer(Options{Calls: newFakeCalls(), UI: built})
	for _, tc := range []struct{ path, want, cache string }{
		{"/agent/", "<title>desk</title>", "no-cache"},
		{"/agent/some/route", "<title>desk</title>", "no-cache"},
		{"/agent/assets/app-1.js", "console.log(1)", "immutable"},
	} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != 200 || !strings.Contains(string(body), tc.want) || !strings.Contains(rec.Header().Get("Cache-Control"), tc.cache) {
			t.Errorf("%s: %d %q cache %q", tc.path, rec.Code, body, rec.Header().Get("Cache-Control"))
		}
	}
}
