package protocol

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on field values. Client input is held to them strictly; server messages too, so a bug
// that would send nonsense is caught by Encode instead of by a browser.
const (
	MaxIDLen      = 64   // ids, ticket numbers, tokens
	MaxSlugLen    = 64   // queue, category, unit, pause-reason and other configured names
	MaxLabelLen   = 200  // short human text: names, titles, IVR labels
	MaxNoteLen    = 4000 // wrap-up notes, transfer notes (characters)
	MaxDTMFLen    = 32   // digits in one call.dtmf
	MaxSDPLen     = 32 << 10
	MaxListLen    = 50 // recent tickets, articles, IVR steps, roles, …
	MaxFieldCount = 32 // extra ticket fields
)

type validator interface{ validate() *Error }

func first(errs ...*Error) *Error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func isIdentRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("._:/@+-", r))
}

// ident checks an optional identifier: 1–64 of A-Z a-z 0-9 . _ : / @ + -.
func ident(path, s string) *Error {
	if s == "" {
		return nil
	}
	if len(s) > MaxIDLen {
		return errorf(CodeInvalidField, path, "longer than %d characters", MaxIDLen)
	}
	for _, r := range s {
		if !isIdentRune(r) {
			return errorf(CodeInvalidField, path, "may contain only letters, digits and . _ : / @ + -")
		}
	}
	return nil
}

func reqIdent(path, s string) *Error {
	if s == "" {
		return errorf(CodeMissingField, path, "required")
	}
	return ident(path, s)
}

// slug checks an optional configured name: 1–64 of a-z 0-9 . _ -.
func slug(path, s string) *Error {
	if s == "" {
		return nil
	}
	if len(s) > MaxSlugLen {
		return errorf(CodeInvalidField, path, "longer than %d characters", MaxSlugLen)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return errorf(CodeInvalidField, path, "may contain only a-z, 0-9 and . _ -")
		}
	}
	return nil
}

func reqSlug(path, s string) *Error {
	if s == "" {
		return errorf(CodeMissingField, path, "required")
	}
	return slug(path, s)
}

// text checks optional human text: at most max characters, no control characters other than
// newline and tab when multiline.
func text(path, s string, max int, multiline bool) *Error {
	if utf8.RuneCountInString(s) > max {
		return errorf(CodeInvalidField, path, "longer than %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return errorf(CodeInvalidField, path, "contains a control character")
		}
	}
	return nil
}

func reqText(path, s string, max int) *Error {
	if strings.TrimSpace(s) == "" {
		return errorf(CodeMissingField, path, "required")
	}
	return text(path, s, max, false)
}

func oneOf[T ~string](path string, v T, allowed ...T) *Error {
	if v == "" {
		return errorf(CodeMissingField, path, "required")
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return errorf(CodeInvalidField, path, "must be one of %s", strings.Join(names, ", "))
}

func reqTime(path string, t time.Time) *Error {
	if t.IsZero() {
		return errorf(CodeMissingField, path, "required")
	}
	return nil
}

func nonNegative(path string, n int64) *Error {
	if n < 0 {
		return errorf(CodeInvalidField, path, "must not be negative")
	}
	return nil
}

func listLen(path string, n int) *Error {
	if n > MaxListLen {
		return errorf(CodeInvalidField, path, "more than %d entries", MaxListLen)
	}
	return nil
}

func each[T any](path string, list []T, f func(p string, v T) *Error) *Error {
	if e := listLen(path, len(list)); e != nil {
		return e
	}
	for i, v := range list {
		if e := f(path+"["+strconv.Itoa(i)+"]", v); e != nil {
			return e
		}
	}
	return nil
}

// ValidDTMF reports whether digits is a valid call.dtmf string: 1–32 of 0-9 * # A-D.
func ValidDTMF(digits string) bool { return dtmf("", digits) == nil }

func dtmf(path, s string) *Error {
	if s == "" {
		return errorf(CodeMissingField, path, "required")
	}
	if len(s) > MaxDTMFLen {
		return errorf(CodeInvalidField, path, "more than %d digits", MaxDTMFLen)
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '*' || r == '#' || r >= 'A' && r <= 'D') {
			return errorf(CodeInvalidField, path, "may contain only 0-9, *, # and A-D")
		}
	}
	return nil
}

func sdp(path, s string) *Error {
	if s == "" {
		return errorf(CodeMissingField, path, "required")
	}
	if len(s) > MaxSDPLen {
		return errorf(CodeInvalidField, path, "longer than %d bytes", MaxSDPLen)
	}
	if !strings.HasPrefix(s, "v=0") {
		return errorf(CodeInvalidField, path, "is not an SDP session description (must start with v=0)")
	}
	return nil
}
