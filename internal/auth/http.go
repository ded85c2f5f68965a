package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CookieName is the session cookie. Its value is the session's token.
const CookieName = "kontakt_session"

// Register adds the sign-in endpoints to mux. They run behind Middleware whether or not the
// caller also wraps mux in it.
//
//	POST /api/v1/auth/login       {"login", "password"} → the principal; sets the cookie
//	POST /api/v1/auth/logout      ends this session; clears the cookie (204)
//	POST /api/v1/auth/logout-all  ends every session of the user; clears the cookie → {"revoked": n}
//	GET  /api/v1/auth/me          → the principal
//	POST /api/v1/auth/password    {"old_password", "new_password"} → the principal; ends every
//	                              session of the user and sets a new cookie
func (s *Service) Register(mux *http.ServeMux) {
	signedIn := Require()
	mux.Handle("POST /api/v1/auth/login", s.Middleware(http.HandlerFunc(s.handleLogin)))
	mux.Handle("POST /api/v1/auth/logout", s.Middleware(http.HandlerFunc(s.handleLogout)))
	mux.Handle("POST /api/v1/auth/logout-all", s.Middleware(signedIn(http.HandlerFunc(s.handleLogoutAll))))
	mux.Handle("GET /api/v1/auth/me", s.Middleware(signedIn(http.HandlerFunc(s.handleMe))))
	mux.Handle("POST /api/v1/auth/password", s.Middleware(signedIn(http.HandlerFunc(s.handlePassword))))
}

type resolvedKey struct{}

// Middleware refuses cross-origin state-changing requests (see SameOrigin) and resolves the
// session cookie into the request's Principal (FromContext). A request without a valid session
// goes on without a principal: Require decides what it may do.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(resolvedKey{}) != nil {
			next.ServeHTTP(w, r)
			return
		}
		token := sessionToken(r)
		if !s.originOK(r, token != "") {
			WriteError(w, http.StatusForbidden, CodeCrossOrigin,
				"state-changing requests must come from Kontakt's own pages (Origin or Sec-Fetch-Site: same-origin)")
			return
		}
		ctx := context.WithValue(r.Context(), resolvedKey{}, true)
		if token != "" {
			p, err := s.Authenticate(ctx, token)
			switch {
			case err == nil:
				ctx = WithPrincipal(ctx, p)
			case errors.Is(err, ErrNoSession):
			default:
				s.o.Log.Error("session lookup failed", "err", err)
				WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "sign-in is unavailable; try again shortly")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// Require lets through requests whose principal has any of roles (any signed-in user when
// roles is empty); it answers 401 without a principal and 403 with the wrong roles.
func Require(roles ...Role) func(http.Handler) http.Handler {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	forbidden := "this needs the role " + strings.Join(names, " or ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				WriteError(w, http.StatusUnauthorized, CodeUnauthenticated, "sign in first")
				return
			}
			if len(roles) > 0 && !p.Has(roles...) {
				WriteError(w, http.StatusForbidden, CodeForbidden, forbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// originOK is the CSRF rule. Safe methods pass. A state-changing request passes if it proves it
// comes from Kontakt's own origin (SameOrigin); without the Origin and Sec-Fetch-Site headers
// (not a browser) it passes only if it carries no session cookie.
func (s *Service) originOK(r *http.Request, hasCookie bool) bool {
	if safeMethod(r.Method) {
		return true
	}
	if r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" {
		return !hasCookie
	}
	return s.SameOrigin(r)
}

// SameOrigin reports whether a request shows that it comes from Kontakt's own pages: an Origin
// header naming the request's host (https only when the request came over TLS or the service
// has SecureCookies) or one of Options.AllowedOrigins; without Origin, Sec-Fetch-Site:
// same-origin. The WebSocket upgrade uses it as its origin check.
func (s *Service) SameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	if slices.ContainsFunc(s.o.AllowedOrigins, func(a string) bool { return strings.EqualFold(strings.TrimSuffix(a, "/"), origin) }) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	if r.TLS != nil || s.o.SecureCookies {
		return u.Scheme == "https"
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

// ClientOf returns the client of a request: its address (from X-Forwarded-For when the peer
// is one of Options.TrustedProxies) and user agent.
func (s *Service) ClientOf(r *http.Request) Client {
	c := Client{UserAgent: r.UserAgent()}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return c
	}
	addr := ap.Addr().Unmap()
	if s.trusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = a.Unmap()
			if !s.trusted(addr) {
				break
			}
		}
	}
	c.Addr = addr
	return c
}

func (s *Service) trusted(a netip.Addr) bool {
	return slices.ContainsFunc(s.o.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(a) })
}

func (s *Service) setCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, s.cookie(r, token, int(s.o.MaxLifetime.Seconds())))
}

func (s *Service) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, "", -1))
}

func (s *Service) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.o.SecureCookies}
}

const maxBody = 16 << 10

// decodeBody reads a JSON object into v, answering 400 itself when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "the body must be one JSON object: "+err.Error())
		return false
	}
	return true
}

func required(fields ...[2]string) []FieldError {
	var out []FieldError
	for _, f := range fields {
		if f[1] == "" {
			out = append(out, FieldError{Field: f[0], Message: "is required"})
		}
	}
	return out
}

// writeErr answers err with its status and code.
func (s *Service) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var te *ThrottledError
	var ve *ValidationError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int(retrySeconds(te.RetryAfter).Seconds())))
		WriteError(w, http.StatusTooManyRequests, CodeThrottled, te.Error())
	case errors.As(err, &ve):
		status := http.StatusUnprocessableEntity
		if ve.Code == CodeInvalidRequest {
			status = http.StatusBadRequest
		}
		WriteError(w, status, ve.Code, ve.Error(), ve.Fields...)
	case errors.Is(err, ErrInvalidCredentials):
		WriteError(w, http.StatusUnauthorized, CodeInvalidCredentials, "wrong login or password")
	case errors.Is(err, ErrDuplicateLogin):
		WriteError(w, http.StatusConflict, CodeDuplicateLogin, err.Error())
	case errors.Is(err, ErrNotFound):
		WriteError(w, http.StatusNotFound, CodeNotFound, err.Error())
	case r.Context().Err() != nil:
		// The client went away.
	default:
		s.o.Log.Error("request failed", "path", r.URL.Path, "err", err)
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "sign-in is unavailable; try again shortly")
	}
}

func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if fs := required([2]string{"login", req.Login}, [2]string{"password", req.Password}); fs != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "login and password are required", fs...)
		return
	}
	p, token, err := s.SignIn(r.Context(), req.Login, req.Password, s.ClientOf(r))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if prev, ok := FromContext(r.Context()); ok {
		// Signing in again from the same browser replaces its session.
		if err := s.Revoke(r.Context(), prev.SessionID); err != nil {
			s.o.Log.Warn("previous session not revoked", "session_id", prev.SessionID, "err", err)
		}
	}
	s.setCookie(w, r, token)
	writeJSON(w, http.StatusOK, p)
}

func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request) {
	if p, ok := FromContext(r.Context()); ok {
		if err := s.Revoke(r.Context(), p.SessionID); err != nil {
			s.writeErr(w, r, err)
			return
		}
		s.o.Log.Info("signed out", "user_id", p.UserID, "session_id", p.SessionID)
	}
	s.clearCookie(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) handleLogoutAll(w http.ResponseWriter, r *http.Request) {
	p, _ := FromContext(r.Context())
	n, err := s.RevokeAll(r.Context(), p.UserID)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.clearCookie(w, r)
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

func (s *Service) handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := FromContext(r.Context())
	writeJSON(w, http.StatusOK, p)
}

func (s *Service) handlePassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Old string `json:"old_password"`
		New string `json:"new_password"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if fs := required([2]string{"old_password", req.Old}, [2]string{"new_password", req.New}); fs != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "old_password and new_password are required", fs...)
		return
	}
	p, _ := FromContext(r.Context())
	np, token, err := s.ChangePassword(r.Context(), p, req.Old, req.New, s.ClientOf(r))
	if errors.Is(err, ErrInvalidCredentials) {
		WriteError(w, http.StatusForbidden, CodeWrongPassword, "the old password is wrong",
			FieldError{Field: "old_password", Message: "is wrong"})
		return
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.setCookie(w, r, token)
	writeJSON(w, http.StatusOK, np)
}
