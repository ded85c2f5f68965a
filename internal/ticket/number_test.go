package ticket

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestNumberString(t *testing.T) {
	for _, tc := range []struct {
		n    Number
		want string
	}{
		{Number{2026, 123}, "2026/000123"},
		{Number{2026, 1}, "2026/000001"},
		{Number{2026, 999999}, "2026/999999"},
		{Number{2026, 1234567}, "2026/1234567"},
		{Number{}, ""},
	} {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Number // zero: refused
	}{
		{"2026/000123", Number{2026, 123}},
		{"2026/123", Number{2026, 123}},
		{"2026/1", Number{2026, 1}},
		{"2026/99999999", Number{2026, 99_999_999}},
		{"2000/000001", Number{2000, 1}},
		{"9999/000001", Number{9999, 1}},
		{"2026/000000", Number{}},    // sequence starts at 1
		{"2026/123456789", Number{}}, // nine digits
		{"1999/000123", Number{}},    // year out of range
		{"026/000123", Number{}},
		{"20261/00123", Number{}},
		{"2026-000123", Number{}},
		{"2026/", Number{}},
		{"2026/ 123", Number{}},
		{" 2026/123", Number{}},
		{"2026/123 ", Number{}},
		{"2026/+123", Number{}},
		{"2026/-12", Number{}},
		{"2026/12a", Number{}},
		{"２０２６/123", Number{}}, // full-width digits
		{"", Number{}},
	} {
		got, err := ParseNumber(tc.in)
		if tc.want.IsZero() {
			if err == nil {
				t.Errorf("ParseNumber(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseNumber(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseNumberDigits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Number
	}{
		{"2026000123", Number{2026, 123}},
		{"2026123", Number{2026, 123}},
		{"20261", Number{2026, 1}},
		{"2026", Number{}},
		{"2026#123", Number{}},
		{"2026/123", Number{}},
		{"2026123456789", Number{}},
	} {
		got, err := ParseNumberDigits(tc.in)
		if tc.want.IsZero() != (err != nil) || got != tc.want {
			t.Errorf("ParseNumberDigits(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestNumberJSON(t *testing.T) {
	b, err := json.Marshal(struct{ N Number }{Number{2026, 123}})
	if err != nil || string(b) != `{"N":"2026/000123"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var v struct{ N Number }
	if err := json.Unmarshal([]byte(`{"N":"2026/123"}`), &v); err != nil || v.N != (Number{2026, 123}) {
		t.Errorf("Unmarshal = %v, %v", v.N, err)
	}
	if err := json.Unmarshal([]byte(`{"N":""}`), &v); err != nil || !v.N.IsZero() {
		t.Errorf("Unmarshal empty = %v, %v", v.N, err)
	}
	if err := json.Unmarshal([]byte(`{"N":"2026-123"}`), &v); err == nil {
		t.Error("Unmarshal accepted 2026-123")
	}
}

// FuzzParseNumber: parsing never panics; whatever parses is valid, prints in the canonical form
// and parses back to itself; the keypad form of it parses to the same number.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"2026/000123", "2026/1", "2026/99999999", "1999/000001", "2026/0", "2026//1", "", "2026/12345678901234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(n Number, err error) {
			if err != nil {
				if !n.IsZero() {
					t.Fatalf("error %v with a non-zero number %#v", err, n)
				}
				return
			}
			if err := n.Validate(); err != nil {
				t.Fatalf("parsed %q to an invalid %#v: %v", s, n, err)
			}
			canon := n.String()
			if !utf8.ValidString(canon) || len(canon) < 11 || canon[4] != '/' {
				t.Fatalf("canonical form %q", canon)
			}
			back, err := ParseNumber(canon)
			if err != nil || back != n {
				t.Fatalf("ParseNumber(%q) = %#v, %v; want %#v", canon, back, err, n)
			}
			keyed, err := ParseNumberDigits(canon[:4] + canon[5:])
			if err != nil || keyed != n {
				t.Fatalf("ParseNumberDigits of %q = %#v, %v", canon, keyed, err)
			}
		}
		check(ParseNumber(s))
		check(ParseNumberDigits(s))
	})
}
