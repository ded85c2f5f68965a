package ticket

import (
	"fmt"
	"strconv"
	"time"

	"kontakt/internal/workcal"
)

// DueRule is a category's due time: a number of working days or of working hours, counted from
// registration on the city office's working calendar (workcal.Default: 08:00–16:00
// Europe/Warsaw, Monday to Friday, Polish public holidays off). The zero rule sets no due time.
type DueRule struct {
	Days  int
	Hours int
}

// Limits of a DueRule: about a year of working time.
const (
	MaxDueDays  = 260
	MaxDueHours = 260 * 8
)

// Validate reports a negative or too long rule, or one with both days and hours.
func (r DueRule) Validate() error {
	if r.Days < 0 || r.Hours < 0 {
		return fmt.Errorf("due time %dd %dh: must not be negative", r.Days, r.Hours)
	}
	if r.Days > MaxDueDays || r.Hours > MaxDueHours {
		return fmt.Errorf("due time %dd %dh: at most %d working days or %d working hours", r.Days, r.Hours, MaxDueDays, MaxDueHours)
	}
	if r.Days > 0 && r.Hours > 0 {
		return fmt.Errorf("due time %dd %dh: give working days or working hours, not both", r.Days, r.Hours)
	}
	return nil
}

// String is "3d" for three working days, "8h" for eight working hours, "" for none.
func (r DueRule) String() string {
	switch {
	case r.Days > 0:
		return strconv.Itoa(r.Days) + "d"
	case r.Hours > 0:
		return strconv.Itoa(r.Hours) + "h"
	}
	return ""
}

// ParseDueRule parses what String writes, within the limits.
func ParseDueRule(s string) (DueRule, error) {
	if s == "" {
		return DueRule{}, nil
	}
	var r DueRule
	num, unit := s[:len(s)-1], s[len(s)-1]
	n, err := strconv.Atoi(num)
	switch {
	case err != nil || n <= 0 || !digits(num):
	case unit == 'd':
		r.Days = n
	case unit == 'h':
		r.Hours = n
	}
	if r == (DueRule{}) {
		return r, fmt.Errorf("due time %q: want working days like 3d or working hours like 8h", s)
	}
	if err := r.Validate(); err != nil {
		return DueRule{}, err
	}
	return r, nil
}

func (r DueRule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *DueRule) UnmarshalText(b []byte) error {
	v, err := ParseDueRule(string(b))
	*r = v
	return err
}

// Due is when a ticket registered at registered must be handled under rule r: the end of working
// hours on the r.Days-th working day after the day of registration (the registration day is not
// counted), or r.Hours of working time after registration. The zero rule gives the zero time.
func Due(registered time.Time, r DueRule) time.Time {
	cal := workcal.Default()
	switch {
	case r.Days > 0:
		return cal.AddWorkingDays(registered, r.Days)
	case r.Hours > 0:
		return cal.AddWorkingHours(registered, time.Duration(r.Hours)*time.Hour)
	}
	return time.Time{}
}

// Overdue reports whether t is still open at now although its due time has come.
func Overdue(t Ticket, now time.Time) bool {
	return t.Status.Open() && !t.Due.IsZero() && !now.Before(t.Due)
}

// EscalationPolicy is when an overdue ticket goes past its owner to the supervisors.
type EscalationPolicy struct {
	// SupervisorGrace is the working time after the due time during which only the owning
	// consultant is notified; after it, the supervisors are.
	SupervisorGrace time.Duration
}

// DefaultEscalation gives the owner one working day (eight working hours).
func DefaultEscalation() EscalationPolicy {
	return EscalationPolicy{SupervisorGrace: 8 * time.Hour}
}

// Escalation is what CheckEscalation finds: the level due now, whom to notify at the owner level,
// and when the next level falls due.
type Escalation struct {
	Level EscalationLevel
	// Owner is the consultant to notify at EscalationOwner.
	Owner UserID
	// Next is when the next level falls due; zero if there is none.
	Next time.Time
}

// CheckEscalation is the escalation rule: an open ticket past its due time is escalated to its
// owning consultant first, and to the supervisors once SupervisorGrace of working time has
// passed since the due time; a ticket nobody owns goes to the supervisors at once. The caller
// (the overdue job) applies Escalate{Level} when Level is above t.Escalated, and notifies.
func CheckEscalation(t Ticket, now time.Time, p EscalationPolicy) Escalation {
	if !t.Status.Open() || t.Due.IsZero() {
		return Escalation{}
	}
	if now.Before(t.Due) {
		return Escalation{Next: t.Due}
	}
	if t.Owner == 0 {
		return Escalation{Level: EscalationSupervisor}
	}
	supervisor := workcal.Default().AddWorkingHours(t.Due, p.SupervisorGrace)
	if !now.Before(supervisor) {
		return Escalation{Level: EscalationSupervisor}
	}
	return Escalation{Level: EscalationOwner, Owner: t.Owner, Next: supervisor}
}
