package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The error codes of the API's JSON errors written by this package.
const (
	CodeInvalidRequest     = "invalid_request"     // 400: the body is not what the endpoint takes
	CodeInvalidCredentials = "invalid_credentials" // 401: wrong login or password (which one is not said)
	CodeUnauthenticated    = "unauthenticated"     // 401: no valid session
	CodeForbidden          = "forbidden"           // 403: signed in without the role the endpoint needs
	CodeCrossOrigin        = "cross_origin"        // 403: a state-changing request not from Kontakt's own pages
	CodeWrongPassword      = "wrong_password"      // 403: the old password given to change it is wrong
	CodeInvalidUser        = "invalid_user"        // 422: a user's fields break a rule
	CodeWeakPassword       = "weak_password"       // 422: the password policy refuses the new password
	CodeDuplicateLogin     = "duplicate_login"     // 409: the login is taken
	CodeNotFound           = "not_found"           // 404
	CodeThrottled          = "throttled"           // 429: too many failed sign-ins; see Retry-After
	CodeUnavailable        = "unavailable"         // 503: the database did not answer
)

// FieldError is a problem with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError is a request or a user refused for its fields' values.
type ValidationError struct {
	Code   string // CodeInvalidUser, CodeWeakPassword or CodeInvalidRequest
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", f.Field, f.Message)
	}
	return b.String()
}

// Errors of users and sign-in.
var (
	ErrNotFound           = errors.New("no such user")
	ErrDuplicateLogin     = errors.New("login already taken")
	ErrInvalidCredentials = errors.New("wrong login or password")
	// ErrNoSession is returned by Authenticate for a token that is not a live session's.
	ErrNoSession = errors.New("no valid session")
)

// ThrottledError refuses a sign-in attempt after too many failures.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-in attempts; try again in %s", retrySeconds(e.RetryAfter).String())
}

// retrySeconds rounds d up to whole seconds, at least one.
func retrySeconds(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second
	return max(s, 1) * time.Second
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// WriteError writes the API's JSON error: {"error": {"code": …, "message": …, "fields": […]}}.
func WriteError(w http.ResponseWriter, status int, code, message string, fields ...FieldError) {
	writeJSON(w, status, errorBody{errorDetail{Code: code, Message: message, Fields: fields}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}
