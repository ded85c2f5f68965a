// Package ticket is the ticket lifecycle as a pure rule set: which actor may move a ticket where,
// following the Łódź contact-center rules (Zarządzenie Nr 8797/VII/18, §§ 8–10; see
// ../../../shared/seeds/004_*.txt and README.md here), plus due dates in working time, overdue
// detection and escalation.
//
// Apply takes a ticket, an action, the actor and the current time, and returns the new ticket and
// the history entry, or a typed *Error saying who may not do what and why. It does no I/O and
// reads no clock; storage loads the ticket, calls Apply and saves both results in one transaction.
package ticket

import "time"

// Ticket is the part of a ticket (zgłoszenie) the lifecycle rules read and write. Storage keeps
// more (caller, address, description, articles used); this is what decides transitions.
type Ticket struct {
	ID       ID         `json:"id"`
	Number   Number     `json:"number"`
	Kind     Kind       `json:"kind"`
	Status   Status     `json:"status"`
	Channel  Channel    `json:"channel"`
	Category CategoryID `json:"category,omitempty"`
	// Owner is the consultant who took the ticket (konsultant, który przyjął zgłoszenie): they
	// monitor and close it. Zero until someone on the first line takes, classifies or handles it.
	Owner UserID `json:"owner,omitempty"`
	// Unit is the unit the ticket is forwarded to; it stays after the unit reported and the
	// ticket was closed. Zero if never forwarded, or if the unit returned it.
	Unit UnitID `json:"unit,omitempty"`
	// ForwardedTo is the body outside the city's units an out-of-scope ticket was sent to
	// (another institution, 112, ...), free text.
	ForwardedTo string    `json:"forwarded_to,omitempty"`
	Registered  time.Time `json:"registered"`
	ForwardedAt time.Time `json:"forwarded_at,omitzero"`
	// Due is when the ticket must be handled; zero if its category sets no due time.
	Due    time.Time `json:"due,omitzero"`
	Report Report    `json:"report,omitzero"`
	// MergedInto is the ticket a merged draft was merged into.
	MergedInto ID `json:"merged_into,omitempty"`
	// Contacts counts the resident's contacts about this ticket: 1 at registration, one more for
	// each repeat contact (a call linked to it, a merged draft).
	Contacts  int             `json:"contacts"`
	ClosedAt  time.Time       `json:"closed_at,omitzero"`
	Escalated EscalationLevel `json:"escalated"`
}

// Report is the unit's report on a forwarded ticket: how and when it was handled. Both are
// required (§ 9 ust. 4: the unit must tell the consultant how it was handled and that it is done).
type Report struct {
	How  string    `json:"how"`
	When time.Time `json:"when"`
	// By is who reported: a unit worker, or a consultant recording a report the unit gave by
	// phone or e-mail (§ 7: monitoring in the system or in another way).
	By UserID `json:"by"`
	// At is when the report was recorded.
	At time.Time `json:"at"`
}

// IsZero reports whether there is no report.
func (r Report) IsZero() bool { return r == Report{} }

// Actor is who acts on a ticket.
type Actor struct {
	User UserID `json:"user,omitempty"`
	Role Role   `json:"role"`
	// Unit is a unit worker's unit.
	Unit UnitID `json:"unit,omitempty"`
}

// Visible reports whether actor may see t at all. Unit workers see only tickets forwarded to
// their own unit (including those it has handled and that are closed since); everyone else sees
// every ticket.
func Visible(t Ticket, actor Actor) bool {
	switch actor.Role {
	case RoleUnitWorker:
		return actor.Unit != 0 && t.Unit == actor.Unit
	case RoleUnknown:
		return false
	}
	return true
}
