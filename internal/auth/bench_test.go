package auth_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"kontakt/internal/auth"
)

// BenchmarkVerifyPassword is one password check with the default argon2id parameters: the cost
// of a sign-in (and of an attacker's guess).
func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := auth.HashPassword("dobre hasło 19115", auth.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, _ := auth.VerifyPassword("dobre hasło 19115", enc, auth.DefaultParams); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkMiddlewareSessionLookup is a request through Middleware with a session cookie (the
// database lookup of the session and its user, and the sliding expiry's write once a minute),
// reporting the median and 99th percentile.
func BenchmarkMiddlewareSessionLookup(b *testing.B) {
	e := newEnv(b, auth.Options{Now: time.Now})
	e.user("bench", auth.RoleConsultant)
	token := e.signIn("bench")
	c := &http.Cookie{Name: auth.CookieName, Value: token}
	var lat []time.Duration
	for b.Loop() {
		r := httptest.NewRequest("GET", "/test/consultant", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		t0 := time.Now()
		e.h.ServeHTTP(w, r)
		lat = append(lat, time.Since(t0))
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkSignIn is POST /api/v1/auth/login end to end with the default parameters: the
// throttling check, the password check and the new session.
func BenchmarkSignIn(b *testing.B) {
	e := newEnv(b, auth.Options{Now: time.Now, Hash: auth.DefaultParams})
	e.user("bench", auth.RoleConsultant)
	for b.Loop() {
		if resp := e.login(e.prefix+"bench", goodPassword); resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
