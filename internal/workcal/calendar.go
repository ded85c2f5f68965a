package workcal

import (
	"errors"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Warsaw must resolve on a machine without /usr/share/zoneinfo
)

// Warsaw is the Europe/Warsaw zone, loaded once. The zone database is embedded (time/tzdata), so
// it loads on any machine; the panic can only mean a broken Go installation.
var Warsaw = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic("workcal: Europe/Warsaw: " + err.Error())
	}
	return loc
})

// Calendar is a working calendar: Monday to Friday except public holidays and Extra days, from
// Start to End wall-clock time in Location.
type Calendar struct {
	Location *time.Location
	// Start and End are wall-clock offsets from midnight: 8*time.Hour is 08:00. A DST change
	// happens at night in Poland, so a working day is End-Start long every day of the year.
	Start, End time.Duration
	// Extra are further non-working days: a day off in lieu of a holiday on a Saturday, a day the
	// office is closed.
	Extra []Date
}

// Default is the city office's calendar: 08:00–16:00 Europe/Warsaw on Polish working days.
func Default() Calendar {
	return Calendar{Location: Warsaw(), Start: 8 * time.Hour, End: 16 * time.Hour}
}

// Validate reports what is wrong with c, all problems at once.
func (c Calendar) Validate() error {
	var errs []error
	if c.Location == nil {
		errs = append(errs, errors.New("workcal: location is required"))
	}
	if c.Start < 0 || c.End > 24*time.Hour || c.Start >= c.End {
		errs = append(errs, fmt.Errorf("workcal: working hours %v–%v: want 0 <= start < end <= 24h", c.Start, c.End))
	}
	return errors.Join(errs...)
}

// IsWorkingDay reports whether d is Monday to Friday, not a public holiday and not an Extra day.
func (c Calendar) IsWorkingDay(d Date) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	if IsHoliday(d) {
		return false
	}
	for _, x := range c.Extra {
		if x == d {
			return false
		}
	}
	return true
}

// IsWorkingTime reports whether t falls within working hours of a working day.
func (c Calendar) IsWorkingTime(t time.Time) bool {
	d := DateOf(t, c.Location)
	return c.IsWorkingDay(d) && !t.Before(d.At(c.Start, c.Location)) && t.Before(d.At(c.End, c.Location))
}

// AddWorkingDays returns the end of working hours on the n-th working day after the day of t.
// The day of t itself is not counted, whatever the hour (as a time limit in days is counted in
// Polish administrative procedure, Code of Administrative Procedure art. 57 § 1), so a ticket
// registered on Friday at 10:00 or on Saturday with one working day is due on Monday at 16:00.
// For n <= 0 it returns t.
func (c Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	if n <= 0 {
		return t
	}
	d := DateOf(t, c.Location)
	for n > 0 {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d.At(c.End, c.Location)
}

// AddWorkingHours returns the instant at which d of working time has passed since t, counting
// only working hours of working days. Time before the start of a working day, after its end,
// and on non-working days does not count. When the time runs out exactly at the end of a working
// day, that end is the result (not the start of the next working day). For d <= 0 it returns t.
func (c Calendar) AddWorkingHours(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	cur := t.In(c.Location)
	day := DateOf(cur, c.Location)
	for {
		if c.IsWorkingDay(day) {
			start, end := day.At(c.Start, c.Location), day.At(c.End, c.Location)
			if cur.Before(start) {
				cur = start
			}
			if cur.Before(end) {
				left := end.Sub(cur)
				if d <= left {
					return cur.Add(d)
				}
				d -= left
			}
		}
		day = day.AddDays(1)
		cur = day.At(0, c.Location)
	}
}
