package recording

import (
	"go/parser"
	"go/token"
	"strconv"
	"testing"
	"time"

	"kontakt/internal/workcal"
)

func TestRetentionUntil(t *testing.T) {
	waw := workcal.Warsaw()
	local := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02T15:04:05", s, waw)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name       string
		registered time.Time
		months     int
		want       string // RFC 3339 in Warsaw: the offset shows CET (+01:00) or CEST (+02:00)
	}{
		{"the DOMAIN.md example", local("2026-03-15T10:00:00"), 6, "2026-10-01T00:00:00+02:00"},
		{"first instant of a month", local("2026-03-01T00:00:00"), 6, "2026-10-01T00:00:00+02:00"},
		{"last instant of a month", local("2026-03-31T23:59:59"), 6, "2026-10-01T00:00:00+02:00"},
		{"31st: no day clamping", local("2026-05-31T12:00:00"), 6, "2026-12-01T00:00:00+01:00"},
		{"leap year: 31 August, February 2028 is a kept month", local("2027-08-31T12:00:00"), 6, "2028-03-01T00:00:00+01:00"},
		{"leap day registered", local("2028-02-29T12:00:00"), 6, "2028-09-01T00:00:00+02:00"},
		{"leap day, one month", local("2028-02-29T12:00:00"), 1, "2028-04-01T00:00:00+02:00"},
		{"non-leap February end", local("2027-02-28T23:00:00"), 6, "2027-09-01T00:00:00+02:00"},
		{"year end: July registration ends in the next January", local("2026-07-10T08:00:00"), 6, "2027-02-01T00:00:00+01:00"},
		{"registered on New Year's Eve", local("2026-12-31T23:59:59"), 6, "2027-07-01T00:00:00+02:00"},
		{"UTC New Year's Eve is already January in Warsaw", utc("2026-12-31T23:30:00Z"), 6, "2027-08-01T00:00:00+02:00"},
		{"UTC 31 March 23:30 is already April in Warsaw", utc("2026-03-31T23:30:00Z"), 6, "2026-11-01T00:00:00+01:00"},
		{"UTC 31 March 21:59 is still March in Warsaw", utc("2026-03-31T21:59:59Z"), 6, "2026-10-01T00:00:00+02:00"},
		// DST starts 2026-03-29 at 02:00 CET (clocks jump to 03:00 CEST).
		{"just before the DST start", utc("2026-03-29T00:59:59Z"), 6, "2026-10-01T00:00:00+02:00"},
		{"just after the DST start", utc("2026-03-29T01:00:00Z"), 6, "2026-10-01T00:00:00+02:00"},
		// DST ends 2026-10-25 at 03:00 CEST (clocks go back to 02:00 CET); 02:30 happens twice.
		{"just before the DST end", utc("2026-10-25T00:59:59Z"), 6, "2027-05-01T00:00:00+02:00"},
		{"the first 02:30 on the DST end day", utc("2026-10-25T00:30:00Z"), 6, "2027-05-01T00:00:00+02:00"},
		{"the second 02:30 on the DST end day", utc("2026-10-25T01:30:00Z"), 6, "2027-05-01T00:00:00+02:00"},
		{"DST end with a deletion date in winter", utc("2026-10-25T01:00:00Z"), 1, "2026-12-01T00:00:00+01:00"},
		{"zero months means the default six", local("2026-03-15T10:00:00"), 0, "2026-10-01T00:00:00+02:00"},
		{"twelve months", local("2026-03-15T10:00:00"), 12, "2027-04-01T00:00:00+02:00"},
		{"twenty-five months over two year ends", local("2026-11-15T10:00:00"), 25, "2029-01-01T00:00:00+01:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RetentionUntil(tc.registered, Policy{Months: tc.months, Zone: waw})
			if s := got.In(waw).Format(time.RFC3339); s != tc.want {
				t.Errorf("RetentionUntil(%s, %d months) = %s, want %s",
					tc.registered.In(waw).Format(time.RFC3339), tc.months, s, tc.want)
			}
			if Expired(tc.registered, got.Add(-time.Nanosecond), Policy{Months: tc.months}) {
				t.Error("expired one nanosecond before the retention date")
			}
			if !Expired(tc.registered, got, Policy{Months: tc.months}) {
				t.Error("not expired at the retention date")
			}
		})
	}
}

func TestPolicyZone(t *testing.T) {
	// In UTC, 2026-03-31T23:30Z is still March.
	got := RetentionUntil(time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC), Policy{Months: 6, Zone: time.UTC})
	if want := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("UTC policy: %s, want %s", got, want)
	}
	// The zero Policy is the default.
	r := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	if a, b := RetentionUntil(r, Policy{}), RetentionUntil(r, DefaultPolicy()); !a.Equal(b) {
		t.Errorf("zero policy %s != default %s", a, b)
	}
}

func TestNegativeMonthsRefused(t *testing.T) {
	p := Policy{Months: -1}
	if p.Validate() == nil {
		t.Fatal("Validate accepted negative months")
	}
	defer func() {
		if recover() == nil {
			t.Error("RetentionUntil did not panic on a negative period")
		}
	}()
	RetentionUntil(time.Now(), p)
}

// The retention rule is pure: retention.go imports only the standard library's time and fmt and
// the working calendar. (Other files of package recording do I/O; this one must not.)
func TestRetentionIsPure(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "retention.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"fmt": true, "time": true, "kontakt/internal/workcal": true}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if !allowed[path] {
			t.Errorf("retention.go imports %s; the retention rule must stay pure", path)
		}
	}
}
