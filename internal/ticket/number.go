package ticket

import (
	"fmt"
	"strconv"
)

// ID identifies a ticket in storage.
type ID int64

// UnitID identifies a unit (second line): geodesy, roads and transport, waste management, ...
type UnitID int64

// CategoryID identifies a ticket category.
type CategoryID int64

// UserID identifies a user: a consultant, supervisor, unit worker, ...
type UserID int64

func (id ID) String() string         { return strconv.FormatInt(int64(id), 10) }
func (id UnitID) String() string     { return strconv.FormatInt(int64(id), 10) }
func (id CategoryID) String() string { return strconv.FormatInt(int64(id), 10) }
func (id UserID) String() string     { return strconv.FormatInt(int64(id), 10) }

// Number is the human ticket number residents are told and key in: year and sequence within it,
// written 2026/000123.
type Number struct {
	Year int
	Seq  int
}

// Limits of a Number.
const (
	MinNumberYear = 2000
	MaxNumberYear = 9999
	MaxNumberSeq  = 99_999_999 // eight digits; the written form pads to six
)

// IsZero reports whether n is the zero Number (no number assigned).
func (n Number) IsZero() bool { return n == Number{} }

// String is the canonical form: four-digit year, slash, sequence padded to six digits
// (2026/000123; 2026/1234567 past a million). The zero Number is "".
func (n Number) String() string {
	if n.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d/%06d", n.Year, n.Seq)
}

// Validate reports whether n is within the limits.
func (n Number) Validate() error {
	if n.Year < MinNumberYear || n.Year > MaxNumberYear {
		return fmt.Errorf("ticket number: year %d is outside %d–%d", n.Year, MinNumberYear, MaxNumberYear)
	}
	if n.Seq < 1 || n.Seq > MaxNumberSeq {
		return fmt.Errorf("ticket number: sequence %d is outside 1–%d", n.Seq, MaxNumberSeq)
	}
	return nil
}

// ParseNumber parses a ticket number as written: YYYY/N with a four-digit year and one to eight
// digits of sequence; the padding is optional (2026/000123 and 2026/123 are the same number).
// Nothing else is accepted: no spaces, signs or other separators.
func ParseNumber(s string) (Number, error) {
	if len(s) < 6 || s[4] != '/' {
		return Number{}, fmt.Errorf("ticket number %q: want YYYY/NNNNNN, like 2026/000123", s)
	}
	return parseParts(s, s[:4], s[5:])
}

// ParseNumberDigits parses a ticket number keyed in on a phone keypad: the four digits of the
// year followed by the sequence (2026000123 or 2026123 for 2026/000123).
func ParseNumberDigits(s string) (Number, error) {
	if len(s) < 5 {
		return Number{}, fmt.Errorf("ticket number %q: want the year and the number, like 2026000123", s)
	}
	return parseParts(s, s[:4], s[4:])
}

func parseParts(s, year, seq string) (Number, error) {
	if !digits(year) || !digits(seq) || len(seq) > 8 {
		return Number{}, fmt.Errorf("ticket number %q: want a four-digit year and one to eight digits of number", s)
	}
	y, _ := strconv.Atoi(year)
	q, _ := strconv.Atoi(seq)
	n := Number{Year: y, Seq: q}
	if err := n.Validate(); err != nil {
		return Number{}, fmt.Errorf("ticket number %q: %w", s, err)
	}
	return n, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MarshalText writes the canonical form; JSON carries it as a string.
func (n Number) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText accepts what ParseNumber accepts, and "" for the zero Number.
func (n *Number) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = Number{}
		return nil
	}
	v, err := ParseNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}
