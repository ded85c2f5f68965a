package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// strict walks the JSON value in b against the Go type t before encoding/json sees it. It rejects
// what encoding/json would silently accept — unknown keys, keys matched case-insensitively,
// duplicate keys, trailing data — and reports wrong JSON types with the field's full path.
func strict(b []byte, t reflect.Type, path string) *Error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if e := walk(dec, t, path, 0); e != nil {
		return e
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(CodeBadJSON, "", "unexpected data after the JSON value")
	}
	return nil
}

var (
	wireType    = reflect.TypeFor[wire]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	timeType    = reflect.TypeFor[time.Time]()
	fieldsCache sync.Map // reflect.Type → map[string]reflect.Type
)

// maxDepth bounds nesting; no message nests deeper than a few levels.
const maxDepth = 16

func typeOf(m Message) reflect.Type { return reflect.TypeOf(m).Elem() }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func syntaxErr(err error) *Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(CodeBadJSON, "", "truncated JSON")
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return errorf(CodeBadJSON, "", "malformed JSON: %s", msg)
}

func walk(dec *json.Decoder, t reflect.Type, path string, depth int) *Error {
	if depth > maxDepth {
		return errorf(CodeBadJSON, path, "nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errorf(CodeBadJSON, "", "empty frame or truncated JSON")
		}
		return syntaxErr(err)
	}
	if tok == nil { // null: the zero value; required fields are checked by validate
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawType {
		return skip(dec, tok, path, depth)
	}
	if t == timeType {
		s, ok := tok.(string)
		if !ok {
			return errorf(CodeInvalidField, path, "must be an RFC 3339 time string")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return errorf(CodeInvalidField, path, "must be an RFC 3339 time, e.g. 2026-03-15T09:30:00Z")
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return errorf(CodeInvalidField, path, "must be an object")
		}
		fields := fieldsOf(t)
		seen := make(map[string]bool, len(fields))
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return syntaxErr(err)
			}
			key := k.(string)
			p := join(path, key)
			if seen[key] {
				return errorf(CodeUnknownField, p, "duplicate key")
			}
			seen[key] = true
			ft, ok := fields[key]
			if !ok {
				return errorf(CodeUnknownField, p, "unknown field")
			}
			if e := walk(dec, ft, p, depth+1); e != nil {
				return e
			}
		}
		return closing(dec)
	case reflect.Map:
		if tok != json.Delim('{') {
			return errorf(CodeInvalidField, path, "must be an object")
		}
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return syntaxErr(err)
			}
			key := k.(string)
			p := join(path, key)
			if seen[key] {
				return errorf(CodeUnknownField, p, "duplicate key")
			}
			seen[key] = true
			if e := walk(dec, t.Elem(), p, depth+1); e != nil {
				return e
			}
		}
		return closing(dec)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return errorf(CodeInvalidField, path, "must be an array")
		}
		for i := 0; dec.More(); i++ {
			if e := walk(dec, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1); e != nil {
				return e
			}
		}
		return closing(dec)
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return errorf(CodeInvalidField, path, "must be a string")
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return errorf(CodeInvalidField, path, "must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return errorf(CodeInvalidField, path, "must be an integer")
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return errorf(CodeInvalidField, path, "must be an integer in range")
		}
	default:
		return skip(dec, tok, path, depth)
	}
	return nil
}

// closing consumes the '}' or ']' that ends the current object or array.
func closing(dec *json.Decoder) *Error {
	if _, err := dec.Token(); err != nil {
		return syntaxErr(err)
	}
	return nil
}

// skip consumes the rest of a value whose first token was tok.
func skip(dec *json.Decoder, tok json.Token, path string, depth int) *Error {
	d, ok := tok.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return nil
	}
	for level := 1; level > 0; {
		if depth+level > maxDepth {
			return errorf(CodeBadJSON, path, "nested too deeply")
		}
		t, err := dec.Token()
		if err != nil {
			return syntaxErr(err)
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			level++
		case json.Delim('}'), json.Delim(']'):
			level--
		}
	}
	return nil
}

// fieldsOf maps the exact JSON names of t's fields to their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldsCache.Store(t, m)
	return m
}
