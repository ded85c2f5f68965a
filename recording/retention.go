package recording

import (
	"fmt"
	"time"

	"kontakt/internal/workcal"
)

// Policy is how long tickets and call recordings are kept.
//
// The Łódź rules (Zarządzenie Nr 8797/VII/18 Prezydenta Miasta Łodzi, § 3 ust. 2) keep tickets
// and call recordings "for six months, counting full calendar months". The literal wording
// ("pełne miesiące kalendarzowe poprzedzające miesiąc, w którym zgłoszenie zostało
// zarejestrowane") cannot be applied as written, so Kontakt reads it as: the month in which the
// ticket or recording was registered is not counted (it is not full); the record is kept through
// the end of the Months-th full calendar month after it, and may be deleted from midnight on the
// first day of the month after that, all in Zone.
//
//	registered 2026-03-15 (any time of day) → kept through 2026-09-30 → deletable from
//	2026-10-01T00:00 Europe/Warsaw
//
// The registration month is taken in Zone, not in UTC: 2026-03-31T23:30Z is 1 April in Warsaw,
// so it is an April registration. Because the period is whole months, the day of the month plays
// no part (31 August and 29 February need no clamping) and neither does the time of day or a DST
// change.
type Policy struct {
	// Months is the number of full calendar months kept after the registration month. Zero means
	// the Łódź default, 6; negative is invalid.
	Months int
	// Zone is where months begin and end. Nil means Europe/Warsaw.
	Zone *time.Location
}

// DefaultMonths is the Łódź retention period.
const DefaultMonths = 6

// DefaultPolicy is six full calendar months in Europe/Warsaw.
func DefaultPolicy() Policy {
	return Policy{Months: DefaultMonths, Zone: workcal.Warsaw()}
}

// Validate reports a policy RetentionUntil would refuse.
func (p Policy) Validate() error {
	if p.Months < 0 {
		return fmt.Errorf("recording: retention months %d: must not be negative", p.Months)
	}
	return nil
}

// RetentionUntil is the instant from which a ticket or recording registered at registered may be
// deleted: midnight, in the policy's zone, on the first day of the month that follows the last
// month kept (see Policy). It panics on a policy Validate refuses: a wrong retention period must
// stop the purge, not delete early.
func RetentionUntil(registered time.Time, p Policy) time.Time {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	months, zone := p.Months, p.Zone
	if months == 0 {
		months = DefaultMonths
	}
	if zone == nil {
		zone = workcal.Warsaw()
	}
	y, m, _ := registered.In(zone).Date()
	// time.Date normalises month overflow into the following years.
	return time.Date(y, m+time.Month(months)+1, 1, 0, 0, 0, 0, zone)
}

// Expired reports whether a ticket or recording registered at registered may be deleted at now.
func Expired(registered, now time.Time, p Policy) bool {
	return !now.Before(RetentionUntil(registered, p))
}
