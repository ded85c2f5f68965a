package workcal

import (
	"strings"
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	for _, tc := range []struct {
		year int
		want string
	}{
		{1990, "1990-04-15"},
		{2000, "2000-04-23"},
		{2008, "2008-03-23"}, // early
		{2011, "2011-04-24"}, // late
		{2019, "2019-04-21"},
		{2024, "2024-03-31"},
		{2025, "2025-04-20"},
		{2026, "2026-04-05"},
		{2027, "2027-03-28"},
		{2028, "2028-04-16"},
		{2029, "2029-04-01"},
		{2038, "2038-04-25"}, // latest possible date
		{2285, "2285-03-22"}, // earliest possible date
	} {
		if got := Easter(tc.year).String(); got != tc.want {
			t.Errorf("Easter(%d) = %s, want %s", tc.year, got, tc.want)
		}
	}
}

func holidayDates(year int) string {
	var ds []string
	for _, h := range Holidays(year) {
		ds = append(ds, h.Date.String()[5:])
	}
	return strings.Join(ds, " ")
}

func TestHolidays(t *testing.T) {
	for _, tc := range []struct {
		year int
		want string
	}{
		// Before 2011 no 6 January.
		{2010, "01-01 04-04 04-05 05-01 05-03 05-23 06-03 08-15 11-01 11-11 12-25 12-26"},
		// The one-off 12 November 2018.
		{2018, "01-01 01-06 04-01 04-02 05-01 05-03 05-20 05-31 08-15 11-01 11-11 11-12 12-25 12-26"},
		// Before 2025 no 24 December.
		{2024, "01-01 01-06 03-31 04-01 05-01 05-03 05-19 05-30 08-15 11-01 11-11 12-25 12-26"},
		{2025, "01-01 01-06 04-20 04-21 05-01 05-03 06-08 06-19 08-15 11-01 11-11 12-24 12-25 12-26"},
		{2026, "01-01 01-06 04-05 04-06 05-01 05-03 05-24 06-04 08-15 11-01 11-11 12-24 12-25 12-26"},
		{2027, "01-01 01-06 03-28 03-29 05-01 05-03 05-16 05-27 08-15 11-01 11-11 12-24 12-25 12-26"},
	} {
		if got := holidayDates(tc.year); got != tc.want {
			t.Errorf("Holidays(%d)\n got %s\nwant %s", tc.year, got, tc.want)
		}
	}
	for y := 1990; y <= 2300; y++ {
		hs := Holidays(y)
		for i := 1; i < len(hs); i++ {
			if !hs[i-1].Date.Before(hs[i].Date) {
				t.Fatalf("Holidays(%d) out of order: %s before %s", y, hs[i-1].Date, hs[i].Date)
			}
		}
	}
	if name, ok := HolidayName(Date{2026, time.June, 4}); !ok || name != "Boże Ciało" {
		t.Errorf("HolidayName(2026-06-04) = %q, %v", name, ok)
	}
	if IsHoliday(Date{2026, time.June, 5}) {
		t.Error("2026-06-05 is not a holiday")
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := Default()
	c.Extra = []Date{{2026, time.May, 2}, {2026, time.November, 10}} // a Saturday (no effect) and a day off in lieu
	for _, tc := range []struct {
		d    Date
		want bool
	}{
		{Date{2026, time.April, 3}, true},      // Good Friday is a working day
		{Date{2026, time.April, 4}, false},     // Saturday
		{Date{2026, time.April, 5}, false},     // Easter Sunday
		{Date{2026, time.April, 6}, false},     // Easter Monday
		{Date{2026, time.April, 7}, true},      // Tuesday after Easter
		{Date{2026, time.June, 4}, false},      // Corpus Christi (Thursday)
		{Date{2026, time.June, 5}, true},       // the Friday after
		{Date{2026, time.November, 10}, false}, // Extra
		{Date{2026, time.November, 11}, false},
		{Date{2026, time.December, 24}, false},
		{Date{2024, time.December, 24}, true}, // before the 2025 amendment
		{Date{2026, time.December, 31}, true},
	} {
		if got := c.IsWorkingDay(tc.d); got != tc.want {
			t.Errorf("IsWorkingDay(%s %s) = %v, want %v", tc.d, tc.d.Weekday(), got, tc.want)
		}
	}
}

func at(s string) time.Time {
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, Warsaw())
	if err != nil {
		panic(err)
	}
	return tm
}

func TestAddWorkingDays(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-02 10:00", 1, "2026-03-03 16:00"}, // Monday → Tuesday
		{"2026-03-02 07:00", 1, "2026-03-03 16:00"}, // registration day never counts
		{"2026-03-02 23:59", 3, "2026-03-05 16:00"},
		{"2026-03-06 10:00", 1, "2026-03-09 16:00"}, // Friday → Monday
		{"2026-03-07 10:00", 1, "2026-03-09 16:00"}, // Saturday → Monday
		{"2026-04-02 12:00", 2, "2026-04-07 16:00"}, // Thursday before Easter: Fri, (Sat, Sun, Mon) Tue
		{"2026-06-03 12:00", 1, "2026-06-05 16:00"}, // over Corpus Christi
		{"2026-12-23 09:00", 1, "2026-12-28 16:00"}, // 24–27 December
		{"2024-12-23 09:00", 1, "2024-12-24 16:00"}, // 24 December still a working day in 2024
		{"2026-12-30 09:00", 2, "2027-01-04 16:00"}, // over New Year
		{"2027-01-05 09:00", 1, "2027-01-07 16:00"}, // over 6 January
		{"2026-03-27 12:00", 2, "2026-03-31 16:00"}, // over the DST start (29 March)
		{"2026-10-23 12:00", 2, "2026-10-27 16:00"}, // over the DST end (25 October)
		{"2026-03-02 10:00", 0, "2026-03-02 10:00"},
	} {
		got := c.AddWorkingDays(at(tc.from), tc.n)
		if want := at(tc.want); !got.Equal(want) {
			t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", tc.from, tc.n, got, want)
		}
	}
}

func TestAddWorkingHours(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-03-02 10:00", 2 * time.Hour, "2026-03-02 12:00"},
		{"2026-03-02 10:00", 6 * time.Hour, "2026-03-02 16:00"}, // exactly the end of the day
		{"2026-03-02 10:00", 7 * time.Hour, "2026-03-03 09:00"},
		{"2026-03-02 06:00", 1 * time.Hour, "2026-03-02 09:00"}, // before hours: starts at 08:00
		{"2026-03-02 17:00", 1 * time.Hour, "2026-03-03 09:00"}, // after hours: next morning
		{"2026-03-06 15:30", 1 * time.Hour, "2026-03-09 08:30"}, // Friday → Monday
		{"2026-03-07 11:00", 8 * time.Hour, "2026-03-09 16:00"}, // Saturday
		{"2026-03-02 08:00", 40 * time.Hour, "2026-03-06 16:00"},
		{"2026-04-03 15:00", 2 * time.Hour, "2026-04-07 09:00"}, // Good Friday → over Easter
		{"2026-03-27 15:00", 2 * time.Hour, "2026-03-30 09:00"}, // over the night of the DST start
		{"2026-10-23 15:00", 2 * time.Hour, "2026-10-26 09:00"}, // over the night of the DST end
		{"2026-12-23 12:00", 8 * time.Hour, "2026-12-28 12:00"},
		{"2026-03-02 10:00", 0, "2026-03-02 10:00"},
		{"2026-03-02 10:30", 90 * time.Minute, "2026-03-02 12:00"},
	} {
		got := c.AddWorkingHours(at(tc.from), tc.d)
		if want := at(tc.want); !got.Equal(want) {
			t.Errorf("AddWorkingHours(%s, %v) = %s, want %s", tc.from, tc.d, got, want)
		}
	}
}

// A calendar whose working hours span the DST change itself: the day is an hour shorter in
// March and an hour longer in October, because hours are wall-clock hours.
func TestWorkingHoursAcrossDSTChange(t *testing.T) {
	c := Calendar{Location: Warsaw(), Start: 0, End: 24 * time.Hour}
	d := Date{2026, time.March, 29}
	if got := d.At(c.End, c.Location).Sub(d.At(c.Start, c.Location)); got != 23*time.Hour {
		t.Errorf("29 March 2026 lasts %v, want 23h", got)
	}
	d = Date{2026, time.October, 25}
	if got := d.At(c.End, c.Location).Sub(d.At(c.Start, c.Location)); got != 25*time.Hour {
		t.Errorf("25 October 2026 lasts %v, want 25h", got)
	}
	// 08:00 wall clock on the DST change day is 06:00 UTC in summer time.
	if got := (Date{2026, time.March, 29}).At(8*time.Hour, c.Location).UTC().Format(time.RFC3339); got != "2026-03-29T06:00:00Z" {
		t.Errorf("08:00 on 29 March 2026 = %s", got)
	}
	// Round-the-clock hours over the weekend with the DST change in it (a DST change is always on
	// a Sunday, so it never falls within a working day).
	night := Calendar{Location: Warsaw(), Start: 0, End: 24 * time.Hour}
	from := at("2026-03-27 23:00") // Friday 23:00 CET
	got := night.AddWorkingHours(from, 2*time.Hour)
	if want := at("2026-03-30 01:00"); !got.Equal(want) { // weekend skipped: Fri 23–24, Mon 00–01
		t.Errorf("AddWorkingHours over the weekend = %s, want %s", got, want)
	}
}

func TestIsWorkingTime(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-03-02 07:59", false},
		{"2026-03-02 08:00", true},
		{"2026-03-02 15:59", true},
		{"2026-03-02 16:00", false},
		{"2026-04-06 10:00", false},
	} {
		if got := c.IsWorkingTime(at(tc.at)); got != tc.want {
			t.Errorf("IsWorkingTime(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	err := Calendar{Start: 16 * time.Hour, End: 8 * time.Hour}.Validate()
	if err == nil || !strings.Contains(err.Error(), "location") || !strings.Contains(err.Error(), "working hours") {
		t.Errorf("Validate = %v, want both problems", err)
	}
}

func TestDate(t *testing.T) {
	if got := MakeDate(2026, 13, 32).String(); got != "2027-02-01" {
		t.Errorf("MakeDate normalises to %s", got)
	}
	if got := (Date{2028, time.February, 28}).AddDays(1).String(); got != "2028-02-29" {
		t.Errorf("leap day: %s", got)
	}
	// 2026-03-31T23:30Z is already 1 April in Warsaw.
	if got := DateOf(time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC), Warsaw()).String(); got != "2026-04-01" {
		t.Errorf("DateOf = %s", got)
	}
}
