// Package workcal is the Polish working calendar: public holidays for any year, working days and
// working hours, and adding N working days or N working hours to an instant across weekends,
// holidays and DST changes. It is pure: no I/O, no clock reads.
//
// Public holidays (dni wolne od pracy) follow the Act of 18 January 1951 on days free from work
// (ustawa z dnia 18 stycznia 1951 r. o dniach wolnych od pracy, consolidated text Dz.U. 2020
// poz. 1920) with its later amendments:
//
//   - 6 January (Epiphany, Święto Trzech Króli) is a holiday from 2011 on: Act of 24 November 2010
//     (Dz.U. 2010 nr 224 poz. 1459), in force 2011;
//   - 24 December (Christmas Eve, Wigilia Bożego Narodzenia) is a holiday from 2025 on: Act of
//     6 December 2024 amending the Act on days free from work (Dz.U. 2024 poz. 1965);
//   - 12 November 2018 was a one-off holiday for the centenary of independence: Act of 9 November
//     2018 (Dz.U. 2018 poz. 2175).
//
// The movable feasts are Easter Sunday and Monday, Pentecost Sunday (Zielone Świątki, Easter + 49
// days) and Corpus Christi (Boże Ciało, Easter + 60 days), with Easter computed by the Gregorian
// computus. The set is right for 1990 and later (3 May and 11 November were restored in 1990 and
// 1989, 22 July abolished in 1990); earlier years are not modelled.
//
// A holiday falling on a Saturday gives employees another day off (Labour Code art. 130 § 2), but
// the employer chooses that day, so it is not a public holiday: put it in Calendar.Extra.
package workcal

import (
	"fmt"
	"time"
)

// Date is a civil date with no time of day and no zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// MakeDate normalises y-m-d like time.Date does (month 13 is January of the next year).
func MakeDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), time.UTC)
}

// AddDays returns the date n days after d (before, when n is negative).
func (d Date) AddDays(n int) Date { return MakeDate(d.Year, d.Month, d.Day+n) }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// At is the instant at the wall-clock offset since midnight on d in loc. Offsets are wall-clock
// hours and minutes, so 08:00 is 08:00 on a DST change day too; 24h is the next midnight.
func (d Date) At(offset time.Duration, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, int(offset), loc)
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String is the ISO form, 2026-04-05.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Easter is the date of Easter Sunday in the Gregorian calendar (the anonymous Gregorian
// algorithm, Meeus/Jones/Butcher).
func Easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{year, time.Month(month), day}
}

// Holiday is a public holiday: its date and its Polish name.
type Holiday struct {
	Date Date
	Name string
}

// Holidays lists the public holidays of year in date order. (The order needs no sorting: Easter
// Monday is 26 April at the latest, Pentecost 10 May at the earliest.)
func Holidays(year int) []Holiday {
	easter := Easter(year)
	hs := make([]Holiday, 0, 15)
	add := func(d Date, name string) { hs = append(hs, Holiday{d, name}) }
	add(Date{year, time.January, 1}, "Nowy Rok")
	if year >= 2011 {
		add(Date{year, time.January, 6}, "Święto Trzech Króli")
	}
	add(easter, "Wielkanoc")
	add(easter.AddDays(1), "Poniedziałek Wielkanocny")
	add(Date{year, time.May, 1}, "Święto Pracy")
	add(Date{year, time.May, 3}, "Święto Narodowe Trzeciego Maja")
	add(easter.AddDays(49), "Zielone Świątki")
	add(easter.AddDays(60), "Boże Ciało")
	add(Date{year, time.August, 15}, "Wniebowzięcie Najświętszej Maryi Panny")
	add(Date{year, time.November, 1}, "Wszystkich Świętych")
	add(Date{year, time.November, 11}, "Narodowe Święto Niepodległości")
	if year == 2018 {
		add(Date{year, time.November, 12}, "Dzień wolny: 100. rocznica odzyskania niepodległości")
	}
	if year >= 2025 {
		add(Date{year, time.December, 24}, "Wigilia Bożego Narodzenia")
	}
	add(Date{year, time.December, 25}, "Boże Narodzenie (pierwszy dzień)")
	add(Date{year, time.December, 26}, "Boże Narodzenie (drugi dzień)")
	return hs
}

// HolidayName returns the name of the public holiday on d, or ok == false if d is none.
func HolidayName(d Date) (name string, ok bool) {
	for _, h := range Holidays(d.Year) {
		if h.Date == d {
			return h.Name, true
		}
	}
	return "", false
}

// IsHoliday reports whether d is a public holiday.
func IsHoliday(d Date) bool {
	_, ok := HolidayName(d)
	return ok
}
