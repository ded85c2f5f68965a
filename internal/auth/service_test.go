package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kontakt/internal/auth"
	"kontakt/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

var fastParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is the injected time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var seq atomic.Int64

// env is one test's service and HTTP handler. Tests share a database; each env has its own
// logins (prefixed) and client address, so throttling and sessions do not cross tests.
type env struct {
	t      testing.TB
	svc    *auth.Service
	h      http.Handler
	clk    *clock
	prefix string
	ip     string
	n      int64
}

func newEnv(t testing.TB, o auth.Options) *env {
	t.Helper()
	pool := testenv.DB(t, "kontakt_auth")
	n := seq.Add(1)
	e := &env{t: t, n: n, clk: &clock{t: time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)},
		prefix: fmt.Sprintf("t%d-%d.", os.Getpid()%10000, n), ip: fmt.Sprintf("10.%d.%d.%d", n/65536%256, n/256%256, n%256)}
	if o.Now == nil {
		o.Now = e.clk.Now
	}
	if o.Hash == (auth.Params{}) {
		o.Hash = fastParams
	}
	e.svc = auth.NewService(pool, o)
	mux := http.NewServeMux()
	e.svc.Register(mux)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("GET /test/any", auth.Require()(ok))
	mux.Handle("POST /test/any", auth.Require()(ok))
	for _, r := range auth.Roles {
		mux.Handle("GET /test/"+string(r), auth.Require(r)(ok))
	}
	mux.Handle("GET /test/supervision", auth.Require(auth.RoleSupervisor, auth.RoleAdministrator)(ok))
	e.h = e.svc.Middleware(mux)
	return e
}

const goodPassword = "dobre hasło 19115"

func (e *env) user(login string, roles ...auth.Role) auth.User {
	e.t.Helper()
	unit := ""
	if slices.Contains(roles, auth.RoleUnitWorker) {
		unit = "mpo"
	}
	u, err := e.svc.CreateUser(context.Background(), auth.NewUser{Login: e.prefix + login, Name: "Test " + login,
		Roles: roles, Unit: unit, Password: goodPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

type reqOpt func(*http.Request)

func cookie(token string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: token}) }
}
func header(k, v string) reqOpt     { return func(r *http.Request) { r.Header.Set(k, v) } }
func fromAddr(ip string) reqOpt     { return func(r *http.Request) { r.RemoteAddr = ip + ":40000" } }
func overTLS() reqOpt               { return func(r *http.Request) { r.TLS = &tls.ConnectionState{} } }
func withoutHeader(k string) reqOpt { return func(r *http.Request) { r.Header.Del(k) } }

// do sends a request the way Kontakt's own page would: a POST carries Origin: http://example.com
// (httptest's host) unless an option changes it.
func (e *env) do(method, path string, body any, opts ...reqOpt) *http.Response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = e.ip + ":40000"
	if method != http.MethodGet {
		r.Header.Set("Origin", "http://example.com")
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

func (e *env) login(login, password string, opts ...reqOpt) *http.Response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/login", map[string]string{"login": login, "password": password}, opts...)
}

// signIn signs in and returns the session token.
func (e *env) signIn(login string) string {
	e.t.Helper()
	resp := e.login(e.prefix+login, goodPassword)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("sign in %s: %d %s", login, resp.StatusCode, readBody(resp))
	}
	return sessionCookie(e.t, resp).Value
}

func sessionCookie(t testing.TB, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", auth.CookieName, resp.Header.Values("Set-Cookie"))
	return nil
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  []auth.FieldError `json:"fields"`
	} `json:"error"`
}

// expectError checks a response's status and JSON error code.
func expectError(t testing.TB, resp *http.Response, status int, code string) apiError {
	t.Helper()
	body := readBody(resp)
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != status || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("got %d %s, want %d with code %s", resp.StatusCode, body, status, code)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q", ct)
	}
	return e
}

func (e *env) me(token string) (auth.Principal, int) {
	e.t.Helper()
	resp := e.do("GET", "/api/v1/auth/me", nil, cookie(token))
	var p auth.Principal
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			e.t.Fatal(err)
		}
	}
	return p, resp.StatusCode
}

func TestSignInCookieMeLogout(t *testing.T) {
	e := newEnv(t, auth.Options{})
	u := e.user("anna", auth.RoleConsultant, auth.RoleBroker)

	resp := e.login(e.prefix+"anna", goodPassword, header("User-Agent", "test-browser/1.0"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.StatusCode, readBody(resp))
	}
	var p auth.Principal
	json.NewDecoder(resp.Body).Decode(&p)
	if p.UserID != u.ID || p.Login != e.prefix+"anna" || p.Name != "Test anna" ||
		!slices.Equal(p.Roles, []auth.Role{auth.RoleConsultant, auth.RoleBroker}) {
		t.Fatalf("principal %+v", p)
	}
	c := sessionCookie(t, resp)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || c.MaxAge != 12*3600 {
		t.Fatalf("cookie attributes: %s", resp.Header.Get("Set-Cookie"))
	}
	if len(c.Value) != 43 {
		t.Fatalf("token %q is not 32 base64url bytes", c.Value)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}

	// Over TLS, or with SecureCookies behind a TLS proxy, the cookie is Secure.
	if c := sessionCookie(t, e.login(e.prefix+"anna", goodPassword, overTLS(), header("Origin", "https://example.com"))); !c.Secure {
		t.Fatal("cookie of a TLS request is not Secure")
	}
	e2 := newEnv(t, auth.Options{SecureCookies: true})
	e2.user("bob", auth.RoleConsultant)
	if c := sessionCookie(t, e2.login(e2.prefix+"bob", goodPassword, header("Origin", "https://example.com"))); !c.Secure {
		t.Fatal("cookie with SecureCookies is not Secure")
	}

	me, status := e.me(c.Value)
	if status != http.StatusOK || me.UserID != u.ID || me.Unit != "" {
		t.Fatalf("me: %d %+v", status, me)
	}
	ap, err := e.svc.Authenticate(context.Background(), c.Value)
	if err != nil || ap.SessionID == "" {
		t.Fatalf("Authenticate: %+v %v", ap, err)
	}
	me.SessionID = ap.SessionID // not in the JSON
	sessions, err := e.svc.Sessions(context.Background(), u.ID)
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions: %v %+v", err, sessions)
	}
	i := slices.IndexFunc(sessions, func(s auth.Session) bool { return s.ID == me.SessionID })
	if i < 0 || sessions[i].UserAgent != "test-browser/1.0" || sessions[i].IP.String() != e.ip || sessions[i].UserID != u.ID {
		t.Fatalf("session records %+v (the principal's is %s)", sessions, me.SessionID)
	}

	resp = e.do("POST", "/api/v1/auth/logout", nil, cookie(c.Value))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", resp.StatusCode, readBody(resp))
	}
	if cl := sessionCookie(t, resp); cl.Value != "" || cl.MaxAge >= 0 {
		t.Fatalf("logout does not clear the cookie: %s", resp.Header.Get("Set-Cookie"))
	}
	if _, status := e.me(c.Value); status != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", status)
	}
	expectError(t, e.do("GET", "/api/v1/auth/me", nil), http.StatusUnauthorized, auth.CodeUnauthenticated)
	// A garbage cookie is no session.
	expectError(t, e.do("GET", "/api/v1/auth/me", nil, cookie("not-a-token")), http.StatusUnauthorized, auth.CodeUnauthenticated)
}

func TestSignInLoginIsCaseAndSpaceInsensitive(t *testing.T) {
	e := newEnv(t, auth.Options{})
	e.user("cezary", auth.RoleSupervisor)
	if resp := e.login("  "+strings.ToUpper(e.prefix+"cezary")+" ", goodPassword); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, readBody(resp))
	}
}

func TestBadLoginRequests(t *testing.T) {
	e := newEnv(t, auth.Options{})
	for _, body := range []string{``, `[]`, `{"login": "a", "password": "b", "admin": true}`, `{"login": "a"} {}`, `{"login": 1}`} {
		r := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(body))
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		expectError(t, w.Result(), http.StatusBadRequest, auth.CodeInvalidRequest)
	}
	er := expectError(t, e.do("POST", "/api/v1/auth/login", map[string]string{"login": "x"}), http.StatusBadRequest, auth.CodeInvalidRequest)
	if len(er.Error.Fields) != 1 || er.Error.Fields[0].Field != "password" {
		t.Fatalf("fields %+v", er.Error.Fields)
	}
	r := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"login": "`+strings.Repeat("a", 20<<10)+`"}`))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	expectError(t, w.Result(), http.StatusBadRequest, auth.CodeInvalidRequest)
}

func TestLogoutAllRevokesOtherSessions(t *testing.T) {
	e := newEnv(t, auth.Options{})
	u := e.user("dorota", auth.RoleConsultant)
	other := e.user("edward", auth.RoleConsultant)
	a, b, c := e.signIn("dorota"), e.signIn("dorota"), e.signIn("dorota")
	o := e.signIn("edward")
	resp := e.do("POST", "/api/v1/auth/logout-all", nil, cookie(a))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout-all: %d %s", resp.StatusCode, readBody(resp))
	}
	var out struct{ Revoked int }
	json.NewDecoder(resp.Body).Decode(&out)
	if out.Revoked != 3 {
		t.Fatalf("revoked %d sessions, want 3", out.Revoked)
	}
	if cl := sessionCookie(t, resp); cl.MaxAge >= 0 {
		t.Fatal("logout-all does not clear the cookie")
	}
	for _, tok := range []string{a, b, c} {
		if _, status := e.me(tok); status != http.StatusUnauthorized {
			t.Fatalf("a session survived sign-out everywhere: %d", status)
		}
	}
	if p, status := e.me(o); status != http.StatusOK || p.UserID != other.ID {
		t.Fatalf("another user's session was revoked: %d", status)
	}
	if ss, _ := e.svc.Sessions(context.Background(), u.ID); len(ss) != 0 {
		t.Fatalf("live sessions after logout-all: %+v", ss)
	}
	expectError(t, e.do("POST", "/api/v1/auth/logout-all", nil), http.StatusUnauthorized, auth.CodeUnauthenticated)
}

func TestPasswordChangeRevokesSessions(t *testing.T) {
	e := newEnv(t, auth.Options{})
	e.user("filip", auth.RoleConsultant)
	a, b := e.signIn("filip"), e.signIn("filip")
	const newPassword = "nowe hasło na zmianę"

	er := expectError(t, e.do("POST", "/api/v1/auth/password", map[string]string{"old_password": "not it at all", "new_password": newPassword},
		cookie(a)), http.StatusForbidden, auth.CodeWrongPassword)
	if len(er.Error.Fields) != 1 || er.Error.Fields[0].Field != "old_password" {
		t.Fatalf("fields %+v", er.Error.Fields)
	}
	er = expectError(t, e.do("POST", "/api/v1/auth/password", map[string]string{"old_password": goodPassword, "new_password": "short"},
		cookie(a)), http.StatusUnprocessableEntity, auth.CodeWeakPassword)
	if len(er.Error.Fields) != 1 || er.Error.Fields[0].Field != "new_password" {
		t.Fatalf("fields %+v", er.Error.Fields)
	}
	expectError(t, e.do("POST", "/api/v1/auth/password", map[string]string{"old_password": goodPassword, "new_password": e.prefix + "filip"},
		cookie(a)), http.StatusUnprocessableEntity, auth.CodeWeakPassword)
	if _, status := e.me(b); status != http.StatusOK {
		t.Fatal("a refused change revoked sessions")
	}

	resp := e.do("POST", "/api/v1/auth/password", map[string]string{"old_password": goodPassword, "new_password": newPassword}, cookie(a))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("change: %d %s", resp.StatusCode, readBody(resp))
	}
	fresh := sessionCookie(t, resp).Value
	for _, tok := range []string{a, b} {
		if _, status := e.me(tok); status != http.StatusUnauthorized {
			t.Fatalf("a session survived the password change: %d", status)
		}
	}
	if _, status := e.me(fresh); status != http.StatusOK {
		t.Fatalf("the new session after the change: %d", status)
	}
	expectError(t, e.login(e.prefix+"filip", goodPassword), http.StatusUnauthorized, auth.CodeInvalidCredentials)
	if resp := e.login(e.prefix+"filip", newPassword); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in with the new password: %d", resp.StatusCode)
	}
	u, _ := e.svc.UserByLogin(context.Background(), e.prefix+"filip")
	if u.PasswordChangedAt == nil || !u.PasswordChangedAt.Equal(e.clk.Now()) {
		t.Fatalf("password_changed_at %v", u.PasswordChangedAt)
	}

	// SetPassword (kontakt user passwd) also signs the user out everywhere.
	c := e.signIn2("filip", newPassword)
	n, err := e.svc.SetPassword(context.Background(), u.ID, goodPassword)
	if err != nil || n != 3 { // fresh, the sign-in with the new password, c
		t.Fatalf("SetPassword revoked %d: %v", n, err)
	}
	if _, status := e.me(c); status != http.StatusUnauthorized {
		t.Fatal("a session survived SetPassword")
	}
}

func (e *env) signIn2(login, password string) string {
	e.t.Helper()
	resp := e.login(e.prefix+login, password)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("sign in: %d %s", resp.StatusCode, readBody(resp))
	}
	return sessionCookie(e.t, resp).Value
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	e := newEnv(t, auth.Options{})
	u := e.user("grazyna", auth.RoleConsultant)
	tok := e.signIn("grazyna")
	n, err := e.svc.Disable(context.Background(), u.ID)
	if err != nil || n != 1 {
		t.Fatalf("Disable revoked %d: %v", n, err)
	}
	if _, status := e.me(tok); status != http.StatusUnauthorized {
		t.Fatalf("disabled user's session: %d", status)
	}
	disabled := readBody(e.login(e.prefix+"grazyna", goodPassword))
	unknown := readBody(e.login(e.prefix+"nobody", goodPassword))
	if disabled != unknown || !strings.Contains(disabled, auth.CodeInvalidCredentials) {
		t.Fatalf("disabled user's answer %s differs from an unknown login's %s", disabled, unknown)
	}
	if err := e.svc.Enable(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	e.signIn("grazyna")
}

func TestUnknownLoginGetsTheSameAnswerAsAWrongPassword(t *testing.T) {
	// Real parameters: the hash is what the timing is made of.
	e := newEnv(t, auth.Options{Hash: auth.DefaultParams, Throttle: auth.ThrottleOptions{LoginFailures: 100, IPFailures: 100}})
	e.user("henryk", auth.RoleConsultant)
	var wrong, unknown []time.Duration
	var wrongBody, unknownBody string
	for i := range 7 {
		t0 := time.Now()
		resp := e.login(e.prefix+"henryk", "not the password")
		wrong = append(wrong, time.Since(t0))
		wrongBody = readBody(resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}
		t0 = time.Now()
		resp = e.login(fmt.Sprintf("%sghost%d", e.prefix, i), "not the password")
		unknown = append(unknown, time.Since(t0))
		unknownBody = readBody(resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown login: %d", resp.StatusCode)
		}
	}
	if wrongBody != unknownBody {
		t.Fatalf("wrong password answers %s, unknown login %s", wrongBody, unknownBody)
	}
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	mw, mu := median(wrong), median(unknown)
	t.Logf("median answer: wrong password %v, unknown login %v", mw, mu)
	if mu < mw/2 || mu > mw*2 {
		t.Fatalf("an unknown login answers in %v, a wrong password in %v: the timing tells them apart", mu, mw)
	}
}

func TestThrottling(t *testing.T) {
	e := newEnv(t, auth.Options{})
	e.user("irena", auth.RoleConsultant)
	login := e.prefix + "irena"
	for i := range 5 {
		expectError(t, e.login(login, fmt.Sprintf("wrong password %d", i)), http.StatusUnauthorized, auth.CodeInvalidCredentials)
		e.clk.Add(10 * time.Second)
	}
	// The 5th failure was 10 s ago: locked for 1 min after it, even with the right password and
	// from another address.
	for _, ip := range []string{e.ip, "192.0.2.77"} {
		resp := e.login(login, goodPassword, fromAddr(ip))
		if got := resp.Header.Get("Retry-After"); got != "50" {
			t.Fatalf("Retry-After %q, want 50", got)
		}
		expectError(t, resp, http.StatusTooManyRequests, auth.CodeThrottled)
	}
	// Another login from the same address is not locked (the address has 5 of its 20).
	e.user("jan", auth.RoleConsultant)
	e.signIn("jan")

	e.clk.Add(51 * time.Second)
	// The lock is over; one more failure locks for twice as long.
	expectError(t, e.login(login, "wrong again"), http.StatusUnauthorized, auth.CodeInvalidCredentials)
	resp := e.login(login, goodPassword)
	if got := resp.Header.Get("Retry-After"); got != "120" {
		t.Fatalf("Retry-After %q after the 6th failure, want 120", got)
	}
	expectError(t, resp, http.StatusTooManyRequests, auth.CodeThrottled)
	e.clk.Add(2 * time.Minute)
	// Signing in resets the login's count.
	e.signIn("irena")
	for i := range 4 {
		expectError(t, e.login(login, fmt.Sprintf("wrong password %d", i)), http.StatusUnauthorized, auth.CodeInvalidCredentials)
	}
	e.signIn("irena")

	// Unknown logins are throttled the same way (no difference to observe).
	for range 5 {
		expectError(t, e.login(e.prefix+"ghost", "whatever it is"), http.StatusUnauthorized, auth.CodeInvalidCredentials)
	}
	expectError(t, e.login(e.prefix+"ghost", "whatever it is"), http.StatusTooManyRequests, auth.CodeThrottled)
}

func TestThrottlingPerAddress(t *testing.T) {
	e := newEnv(t, auth.Options{})
	e.user("karol", auth.RoleConsultant)
	// 20 failures spread over many logins from one address lock the address, not the logins.
	for i := range 20 {
		expectError(t, e.login(fmt.Sprintf("%sguess%d", e.prefix, i), "password guess"), http.StatusUnauthorized, auth.CodeInvalidCredentials)
	}
	resp := e.login(e.prefix+"karol", goodPassword)
	if resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	expectError(t, resp, http.StatusTooManyRequests, auth.CodeThrottled)
	if resp := e.login(e.prefix+"karol", goodPassword, fromAddr("192.0.2.78")); resp.StatusCode != http.StatusOK {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
	// An IPv6 client is counted by its /64.
	e6 := newEnv(t, auth.Options{Throttle: auth.ThrottleOptions{IPFailures: 3}})
	e6.user("lena", auth.RoleConsultant)
	for i := range 3 {
		expectError(t, e6.login(fmt.Sprintf("%sguess%d", e6.prefix, i), "password guess", fromAddr(fmt.Sprintf("[2001:db8:%x:1::%d]", e6.n, i+1))),
			http.StatusUnauthorized, auth.CodeInvalidCredentials)
	}
	expectError(t, e6.login(e6.prefix+"lena", goodPassword, fromAddr(fmt.Sprintf("[2001:db8:%x:1::99]", e6.n))),
		http.StatusTooManyRequests, auth.CodeThrottled)
}

func TestConcurrentGuessesCountAgainstEachOther(t *testing.T) {
	e := newEnv(t, auth.Options{})
	e.user("ludwik", auth.RoleConsultant)
	var wg sync.WaitGroup
	statuses := make([]int, 30)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = e.login(e.prefix+"ludwik", fmt.Sprintf("guess number %d", i), fromAddr(fmt.Sprintf("192.0.2.%d", i+1))).StatusCode
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != 25 {
		t.Fatalf("30 concurrent guesses: %v, want 5 checked and 25 throttled", counts)
	}
}

func TestRequireEveryRole(t *testing.T) {
	e := newEnv(t, auth.Options{})
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles {
		e.user("only-"+string(r), r)
		tokens[r] = e.signIn("only-" + string(r))
	}
	for _, route := range auth.Roles {
		path := "/test/" + string(route)
		expectError(t, e.do("GET", path, nil), http.StatusUnauthorized, auth.CodeUnauthenticated)
		for _, has := range auth.Roles {
			resp := e.do("GET", path, nil, cookie(tokens[has]))
			if has == route {
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("%s on %s: %d", has, path, resp.StatusCode)
				}
			} else {
				e := expectError(t, resp, http.StatusForbidden, auth.CodeForbidden)
				if !strings.Contains(e.Error.Message, string(route)) {
					t.Errorf("403 message %q does not name %s", e.Error.Message, route)
				}
			}
		}
	}
	for _, has := range auth.Roles {
		if resp := e.do("GET", "/test/any", nil, cookie(tokens[has])); resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s on a route for any signed-in user: %d", has, resp.StatusCode)
		}
		want := http.StatusForbidden
		if has == auth.RoleSupervisor || has == auth.RoleAdministrator {
			want = http.StatusNoContent
		}
		if resp := e.do("GET", "/test/supervision", nil, cookie(tokens[has])); resp.StatusCode != want {
			t.Errorf("%s on a supervisor-or-administrator route: %d, want %d", has, resp.StatusCode, want)
		}
	}
	expectError(t, e.do("GET", "/test/any", nil), http.StatusUnauthorized, auth.CodeUnauthenticated)

	// Roles are read on every request: a change applies at once, without signing in again.
	u, _ := e.svc.UserByLogin(context.Background(), e.prefix+"only-consultant")
	if err := e.svc.SetRoles(context.Background(), u.ID, []auth.Role{auth.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	if resp := e.do("GET", "/test/supervisor", nil, cookie(tokens[auth.RoleConsultant])); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("after the role change: %d", resp.StatusCode)
	}
	expectError(t, e.do("GET", "/test/consultant", nil, cookie(tokens[auth.RoleConsultant])), http.StatusForbidden, auth.CodeForbidden)
	// A unit worker's principal carries the unit.
	if p, _ := e.me(tokens[auth.RoleUnitWorker]); p.Unit != "mpo" {
		t.Fatalf("unit worker's principal %+v", p)
	}
}

func TestCrossOriginRequestsRefused(t *testing.T) {
	e := newEnv(t, auth.Options{AllowedOrigins: []string{"https://19115.example.pl"}})
	e.user("marta", auth.RoleConsultant)
	tok := e.signIn("marta")
	for _, c := range []struct {
		name string
		opts []reqOpt
		ok   bool
	}{
		{"same origin", nil, true},
		{"cross origin", []reqOpt{header("Origin", "https://evil.example")}, false},
		{"same host, other port", []reqOpt{header("Origin", "http://example.com:8081")}, false},
		{"null origin", []reqOpt{header("Origin", "null")}, false},
		{"no Origin, Sec-Fetch-Site same-origin", []reqOpt{withoutHeader("Origin"), header("Sec-Fetch-Site", "same-origin")}, true},
		{"no Origin, Sec-Fetch-Site same-site", []reqOpt{withoutHeader("Origin"), header("Sec-Fetch-Site", "same-site")}, false},
		{"no Origin, Sec-Fetch-Site cross-site", []reqOpt{withoutHeader("Origin"), header("Sec-Fetch-Site", "cross-site")}, false},
		{"neither header", []reqOpt{withoutHeader("Origin")}, false},
		{"an allowed origin", []reqOpt{header("Origin", "https://19115.example.pl")}, true},
		{"http origin of a TLS request", []reqOpt{overTLS()}, false},
		{"https origin of a TLS request", []reqOpt{overTLS(), header("Origin", "https://example.com")}, true},
	} {
		resp := e.do("POST", "/test/any", nil, append([]reqOpt{cookie(tok)}, c.opts...)...)
		if c.ok && resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, readBody(resp))
		}
		if !c.ok {
			expectError(t, resp, http.StatusForbidden, auth.CodeCrossOrigin)
		}
	}
	// A cross-origin logout or logout-all leaves the session alone.
	expectError(t, e.do("POST", "/api/v1/auth/logout", nil, cookie(tok), header("Origin", "https://evil.example")), http.StatusForbidden, auth.CodeCrossOrigin)
	expectError(t, e.do("POST", "/api/v1/auth/logout-all", nil, cookie(tok), header("Origin", "https://evil.example")), http.StatusForbidden, auth.CodeCrossOrigin)
	if _, status := e.me(tok); status != http.StatusOK {
		t.Fatal("a cross-origin request ended the session")
	}
	// Reading is not state-changing: a GET needs no Origin.
	if _, status := e.me(tok); status != http.StatusOK {
		t.Fatal(status)
	}
	// Signing in from another site's page is refused (login CSRF); a client that is not a
	// browser (no Origin, no Sec-Fetch-Site, no cookie) may sign in.
	expectError(t, e.login(e.prefix+"marta", goodPassword, header("Origin", "https://evil.example")), http.StatusForbidden, auth.CodeCrossOrigin)
	if resp := e.login(e.prefix+"marta", goodPassword, withoutHeader("Origin")); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in without Origin: %d", resp.StatusCode)
	}
}

func TestSameOriginForWebSocket(t *testing.T) {
	e := newEnv(t, auth.Options{})
	r := httptest.NewRequest("GET", "/api/v1/agent/ws", nil)
	if e.svc.SameOrigin(r) {
		t.Fatal("no Origin at all counts as same origin")
	}
	r.Header.Set("Origin", "http://example.com")
	if !e.svc.SameOrigin(r) {
		t.Fatal("own origin refused")
	}
	r.Header.Set("Origin", "http://evil.example")
	if e.svc.SameOrigin(r) {
		t.Fatal("other origin accepted")
	}
}

func TestAuthenticateSlidingAndAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, auth.Options{IdleTimeout: time.Hour, MaxLifetime: 3 * time.Hour})
	e.user("norbert", auth.RoleConsultant)
	tok := e.signIn("norbert")
	// Used every 50 minutes, the session lives until the absolute maximum.
	for elapsed := 50 * time.Minute; elapsed < 3*time.Hour; elapsed += 50 * time.Minute {
		e.clk.Add(50 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, tok); err != nil {
			t.Fatalf("after %v of use: %v", elapsed, err)
		}
	}
	e.clk.Add(30 * time.Minute) // 3h20m after sign-in
	if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("past the absolute maximum: %v", err)
	}
	// Left alone longer than the idle timeout, it ends.
	tok = e.signIn("norbert")
	e.clk.Add(59 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(61 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("idle past the timeout: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("!", 43), tok + "A"} {
		if _, err := e.svc.Authenticate(ctx, bad); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
}

func TestRevokeOneSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, auth.Options{})
	e.user("olga", auth.RoleConsultant)
	a, b := e.signIn("olga"), e.signIn("olga")
	pa, _ := e.svc.Authenticate(ctx, a)
	if err := e.svc.Revoke(ctx, pa.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, a); !errors.Is(err, auth.ErrNoSession) {
		t.Fatal("revoked session still authenticates")
	}
	if _, err := e.svc.Authenticate(ctx, b); err != nil {
		t.Fatal("revoking one session ended another")
	}
	if err := e.svc.Revoke(ctx, "zz"); err == nil {
		t.Fatal("a malformed session id was accepted")
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, auth.Options{})
	p := e.prefix
	invalid := func(err error, code, field string) {
		t.Helper()
		var ve *auth.ValidationError
		if !errors.As(err, &ve) || ve.Code != code || !slices.ContainsFunc(ve.Fields, func(f auth.FieldError) bool { return f.Field == field }) {
			t.Fatalf("got %v, want %s on %s", err, code, field)
		}
	}
	_, err := e.svc.CreateUser(ctx, auth.NewUser{Login: p + "Bad Login", Name: "x", Roles: []auth.Role{auth.RoleConsultant}, Password: goodPassword})
	invalid(err, auth.CodeInvalidUser, "login")
	_, err = e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: " ", Roles: []auth.Role{auth.RoleConsultant}, Password: goodPassword})
	invalid(err, auth.CodeInvalidUser, "name")
	_, err = e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: "Paweł", Roles: []auth.Role{"boss"}, Password: goodPassword})
	invalid(err, auth.CodeInvalidUser, "roles")
	_, err = e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: "Paweł", Password: goodPassword})
	invalid(err, auth.CodeInvalidUser, "roles")
	_, err = e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: "Paweł", Roles: []auth.Role{auth.RoleUnitWorker}, Password: goodPassword})
	invalid(err, auth.CodeInvalidUser, "unit")
	_, err = e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: "Paweł", Roles: []auth.Role{auth.RoleConsultant}, Password: "krótkie"})
	invalid(err, auth.CodeWeakPassword, "password")

	u, err := e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: " Paweł Nowak ",
		Roles: []auth.Role{auth.RoleBroker, auth.RoleConsultant, auth.RoleBroker}, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Paweł Nowak" || !slices.Equal(u.Roles, []auth.Role{auth.RoleConsultant, auth.RoleBroker}) || u.Disabled || !u.HasPassword ||
		u.PasswordChangedAt == nil || u.LastSignIn != nil {
		t.Fatalf("created %+v", u)
	}
	if _, err := e.svc.CreateUser(ctx, auth.NewUser{Login: p + "pawel", Name: "Other", Roles: []auth.Role{auth.RoleConsultant}, Password: goodPassword}); !errors.Is(err, auth.ErrDuplicateLogin) {
		t.Fatalf("duplicate login: %v", err)
	}
	// Taking the unit worker role needs a unit first.
	invalid(e.svc.SetRoles(ctx, u.ID, []auth.Role{auth.RoleUnitWorker}), auth.CodeInvalidUser, "unit")
	if err := e.svc.SetUnit(ctx, u.ID, "zdm"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetRoles(ctx, u.ID, []auth.Role{auth.RoleUnitWorker}); err != nil {
		t.Fatal(err)
	}
	invalid(e.svc.SetUnit(ctx, u.ID, ""), auth.CodeInvalidUser, "unit")
	invalid(e.svc.SetRoles(ctx, u.ID, nil), auth.CodeInvalidUser, "roles")
	e.signIn("pawel")
	got, err := e.svc.UserByID(ctx, u.ID)
	if err != nil || got.Unit != "zdm" || !slices.Equal(got.Roles, []auth.Role{auth.RoleUnitWorker}) || got.LastSignIn == nil {
		t.Fatalf("after changes %+v %v", got, err)
	}
	if _, err := e.svc.UserByLogin(ctx, p+"nobody"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatal(err)
	}
	if err := e.svc.SetRoles(ctx, -1, []auth.Role{auth.RoleBroker}); !errors.Is(err, auth.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := e.svc.Disable(ctx, -1); !errors.Is(err, auth.ErrNotFound) {
		t.Fatal(err)
	}
	all, err := e.svc.Users(ctx)
	if err != nil || !slices.ContainsFunc(all, func(x auth.User) bool { return x.ID == u.ID }) ||
		!sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Login < all[j].Login }) {
		t.Fatalf("Users: %v", err)
	}
}

func TestRehashOnSignInWhenParametersChange(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, auth.Options{})
	u := e.user("roman", auth.RoleConsultant)
	tok := e.signIn("roman")
	stronger := fastParams
	stronger.Time = 2
	e2 := *e
	e2.svc = auth.NewService(testenv.DB(t, "kontakt_auth"), auth.Options{Now: e.clk.Now, Hash: stronger})
	mux := http.NewServeMux()
	e2.svc.Register(mux)
	e2.h = mux
	e2.signIn("roman")
	var enc string
	testenv.DB(t, "kontakt_auth").QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&enc)
	h, err := auth.ParseHash(enc)
	if err != nil || h.Params != stronger {
		t.Fatalf("after sign-in with new parameters the hash is %s (%v)", enc, err)
	}
	// Rehashing keeps the password and the sessions.
	if _, err := e2.svc.Authenticate(ctx, tok); err != nil {
		t.Fatal("rehashing revoked a session")
	}
	e.signIn("roman")
}

func TestClientAddressBehindTrustedProxy(t *testing.T) {
	e := newEnv(t, auth.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	r := httptest.NewRequest("POST", "/", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7, 127.0.0.2")
	if got := e.svc.ClientOf(r).Addr.String(); got != "198.51.100.7" {
		t.Fatalf("behind a trusted proxy: %s", got)
	}
	r.RemoteAddr = "192.0.2.1:5555"
	if got := e.svc.ClientOf(r).Addr.String(); got != "192.0.2.1" {
		t.Fatalf("an untrusted peer's X-Forwarded-For was believed: %s", got)
	}
}

// TestOverRealHTTP signs in, reads me and signs out through a real server and a browser-like
// client with a cookie jar.
func TestOverRealHTTP(t *testing.T) {
	e := newEnv(t, auth.Options{})
	e.user("piotr", auth.RoleBroker)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path, body string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", srv.URL)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post("/api/v1/auth/login", fmt.Sprintf(`{"login": %q, "password": %q}`, e.prefix+"piotr", goodPassword)); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.StatusCode, readBody(resp))
	}
	resp, err := client.Get(srv.URL + "/api/v1/auth/me")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %v %v", resp.StatusCode, err)
	}
	var p auth.Principal
	json.NewDecoder(resp.Body).Decode(&p)
	if p.Login != e.prefix+"piotr" || !p.Has(auth.RoleBroker) {
		t.Fatalf("me: %+v", p)
	}
	if resp := post("/api/v1/auth/logout", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := client.Get(srv.URL + "/api/v1/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", resp.StatusCode)
	}
}
