package ticket

import (
	"fmt"
	"strings"
	"time"
)

type roleSet uint16

func roles(rs ...Role) roleSet {
	var s roleSet
	for _, r := range rs {
		s |= 1 << r
	}
	return s
}

func (s roleSet) has(r Role) bool { return s&(1<<r) != 0 }

type statusSet uint16

func statuses(ss ...Status) statusSet {
	var s statusSet
	for _, st := range ss {
		s |= 1 << st
	}
	return s
}

func (s statusSet) has(st Status) bool { return s&(1<<st) != 0 }

func (s statusSet) String() string {
	var out []string
	for st := StatusUnknown; st <= StatusAbandonedCall; st++ {
		if s.has(st) {
			out = append(out, statusLabel(st))
		}
	}
	return strings.Join(out, ", ")
}

// rule is who may take an action from where. Apply checks, in this order: the role, the unit
// (for unit workers), the status, the owner (for consultants and brokers), then the action's own
// fields.
type rule struct {
	who roleSet
	// from is the statuses the action applies to; unitFrom the statuses for a unit worker, on
	// tickets forwarded to their own unit.
	from, unitFrom statusSet
	// owned: a consultant or broker may act only on a ticket they own or that has no owner yet;
	// the ticket becomes theirs. Supervisors act on any ticket.
	owned bool
	// why completes "<role> may not <action> a ticket: ...".
	why string
}

var (
	firstLine = roles(RoleConsultant, RoleBroker, RoleSupervisor)
	open      = statuses(StatusNew, StatusInProgress, StatusForwarded, StatusResolvedByUnit)
	anyStatus = open | statuses(StatusClosed, StatusMerged, StatusAbandonedCall)
)

var rules = [...]rule{
	ActionRegister: {
		who: firstLine | roles(RoleSystem), from: statuses(StatusUnknown),
		why: "tickets are registered by the first line, or by the system for calls and the web and mobile channels"},
	ActionClassify: {
		who: firstLine, from: statuses(StatusNew, StatusInProgress), owned: true,
		why: "the first line (consultant, broker, supervisor) classifies tickets"},
	ActionTake: {
		who: firstLine, from: statuses(StatusNew), owned: true,
		why: "the first line takes tickets"},
	ActionForward: {
		who: firstLine, from: open, owned: true,
		why: "the consultant who took the ticket forwards it to the competent unit"},
	ActionReturn: {
		who: roles(RoleUnitWorker), unitFrom: statuses(StatusForwarded),
		why: "only the unit a ticket is forwarded to can send it back as not theirs; the first line forwards it elsewhere instead"},
	ActionReport: {
		who: firstLine | roles(RoleUnitWorker), from: statuses(StatusForwarded), unitFrom: statuses(StatusForwarded), owned: true,
		why: "the unit reports how and when it handled the ticket, or the owning consultant records the unit's report"},
	ActionClose: {
		who: firstLine, from: statuses(StatusNew, StatusInProgress, StatusResolvedByUnit), owned: true,
		why: "closing belongs to the consultant who took the ticket, or a supervisor"},
	ActionReopen: {
		who: roles(RoleSupervisor), from: statuses(StatusClosed),
		why: "only a supervisor reopens a closed ticket"},
	ActionReassign: {
		who: roles(RoleSupervisor), from: open,
		why: "only a supervisor gives a ticket to another consultant"},
	ActionMerge: {
		who: firstLine | roles(RoleSystem), from: statuses(StatusNew, StatusInProgress), owned: true,
		why: "the first line links a draft to an existing ticket; the system does when a caller asks about one by phone"},
	ActionAbandon: {
		who: firstLine | roles(RoleSystem), from: statuses(StatusNew), owned: true,
		why: "the system, or the consultant who got the call, marks a call's draft abandoned"},
	ActionAddContact: {
		who: firstLine | roles(RoleSystem), from: open | statuses(StatusClosed),
		why: "repeat contacts are counted by the first line or the system"},
	ActionAddNote: {
		who: firstLine | roles(RoleUnitWorker, RoleSystem), from: anyStatus, unitFrom: statuses(StatusForwarded, StatusResolvedByUnit),
		why: "notes are added by the first line, by a unit worker on a ticket forwarded to their unit, or by the system (a callback's attempts)"},
	ActionEscalate: {
		who: roles(RoleSystem), from: open,
		why: "escalation is recorded by the system's overdue check"},
}

// Apply takes action a on t as actor at now. On success it returns the changed ticket and the
// history entry; on refusal, t unchanged, a zero Change and an *Error.
func Apply(t Ticket, a Action, actor Actor, now time.Time) (Ticket, Change, error) {
	if err := check(t, a, actor); err != nil {
		return t, Change{}, err
	}
	after := t // Ticket holds no pointers: a copy is a snapshot
	note, err := a.do(&after, actor, now)
	if err != nil {
		return t, Change{}, err
	}
	if rules[a.Type()].owned && actor.Role.FirstLine() && after.Owner == 0 {
		after.Owner = actor.User
	}
	return after, Change{
		Ticket: after.ID, Action: a.Type(), Actor: actor, At: now,
		Note: strings.TrimSpace(note), Fields: diff(t, after),
	}, nil
}

func check(t Ticket, a Action, actor Actor) *Error {
	if a == nil {
		return refuse(CodeInvalidField, ActionUnknown, "no action")
	}
	at := a.Type()
	switch {
	case actor.Role == RoleUnknown || int(actor.Role) >= len(roleNames):
		return refuse(CodeInvalidActor, at, "the actor has no known role")
	case actor.Role == RoleUnitWorker && actor.Unit == 0:
		return refuse(CodeInvalidActor, at, "a unit worker must belong to a unit")
	case actor.Role != RoleSystem && actor.User == 0:
		return refuse(CodeInvalidActor, at, "%s must be a known user", roleNoun(actor.Role))
	}
	r := rules[at]
	if !r.who.has(actor.Role) {
		return refuse(CodeRoleNotAllowed, at, "%s may not %s a ticket: %s", roleNoun(actor.Role), verb(at), r.why)
	}
	from := r.from
	if actor.Role == RoleUnitWorker {
		if t.Unit != actor.Unit {
			return refuse(CodeOtherUnit, at, "ticket %s is not forwarded to your unit; unit workers act only on tickets forwarded to their own unit", label(t))
		}
		from = r.unitFrom
	}
	if !from.has(t.Status) {
		if t.Status == StatusUnknown {
			return refuse(CodeWrongStatus, at, "the ticket is not registered")
		}
		if at == ActionRegister {
			return refuse(CodeWrongStatus, at, "ticket %s is registered already", label(t))
		}
		return refuse(CodeWrongStatus, at, "ticket %s is %s; %s is allowed only when it is %s", label(t), statusLabel(t.Status), verbing(at), from)
	}
	if r.owned && (actor.Role == RoleConsultant || actor.Role == RoleBroker) && t.Owner != 0 && t.Owner != actor.User {
		return refuse(CodeNotOwner, at, "ticket %s is owned by user %s; only its owner or a supervisor may %s it (a supervisor can reassign it to you)", label(t), t.Owner, verb(at))
	}
	return nil
}

// verb is the action in plain words, to fit "may not ... a ticket".
func verb(a ActionType) string {
	switch a {
	case ActionReport:
		return "report on"
	case ActionAbandon:
		return "mark abandoned"
	case ActionAddContact:
		return "count a repeat contact on"
	case ActionAddNote:
		return "add a note to"
	}
	return a.String()
}

// verbing is the action as a noun phrase, to fit "... is allowed only when".
func verbing(a ActionType) string {
	switch a {
	case ActionReport:
		return "reporting"
	case ActionAddContact:
		return "counting a repeat contact"
	case ActionAddNote:
		return "adding a note"
	case ActionAbandon:
		return "marking abandoned"
	}
	v := a.String()
	if strings.HasSuffix(v, "e") {
		v = v[:len(v)-1]
	}
	return v + "ing"
}

func roleNoun(r Role) string {
	switch r {
	case RoleAdministrator:
		return "an administrator"
	case RoleSystem:
		return "the system"
	case RoleUnknown:
		return "an unknown actor"
	}
	return "a " + strings.ReplaceAll(r.String(), "_", " ")
}

func statusLabel(s Status) string { return strings.ReplaceAll(s.String(), "_", " ") }

func kindLabel(k Kind) string {
	switch k {
	case KindInformation:
		return "information request"
	case KindOutOfScope:
		return "out-of-scope"
	}
	return k.String()
}

// label names a ticket in messages: its number, else its id.
func label(t Ticket) string {
	if !t.Number.IsZero() {
		return t.Number.String()
	}
	if t.ID != 0 {
		return "#" + t.ID.String()
	}
	return "(new)"
}

// Change is one entry of a ticket's history: who did what when, and each field before and after.
type Change struct {
	// Ticket is the ticket's ID; zero for a Register that left the ID to storage.
	Ticket ID         `json:"ticket"`
	Action ActionType `json:"action"`
	Actor  Actor      `json:"actor"`
	At     time.Time  `json:"at"`
	// Note is the free text that came with the action: a note, a reason, the unit's "how".
	Note   string        `json:"note,omitempty"`
	Fields []FieldChange `json:"fields,omitempty"`
}

// FieldChange is one field's value before and after, as text ("" for none). Field names are the
// Ticket's JSON names.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

func (c FieldChange) String() string { return fmt.Sprintf("%s: %q → %q", c.Field, c.Before, c.After) }

// fieldValues is every field of t as text, in a fixed order.
func fieldValues(t Ticket) [][2]string {
	id := func(v int64) string {
		if v == 0 {
			return ""
		}
		return fmt.Sprint(v)
	}
	tm := func(v time.Time) string {
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format(time.RFC3339Nano)
	}
	return [][2]string{
		{"id", id(int64(t.ID))},
		{"number", t.Number.String()},
		{"status", t.Status.String()},
		{"kind", t.Kind.String()},
		{"channel", t.Channel.String()},
		{"category", id(int64(t.Category))},
		{"owner", id(int64(t.Owner))},
		{"unit", id(int64(t.Unit))},
		{"forwarded_to", t.ForwardedTo},
		{"registered", tm(t.Registered)},
		{"forwarded_at", tm(t.ForwardedAt)},
		{"due", tm(t.Due)},
		{"report.how", t.Report.How},
		{"report.when", tm(t.Report.When)},
		{"report.by", id(int64(t.Report.By))},
		{"report.at", tm(t.Report.At)},
		{"merged_into", id(int64(t.MergedInto))},
		{"contacts", fmt.Sprint(t.Contacts)},
		{"closed_at", tm(t.ClosedAt)},
		{"escalated", t.Escalated.String()},
	}
}

func diff(before, after Ticket) []FieldChange {
	b, a := fieldValues(before), fieldValues(after)
	var out []FieldChange
	for i := range a {
		if b[i][1] != a[i][1] {
			out = append(out, FieldChange{Field: a[i][0], Before: b[i][1], After: a[i][1]})
		}
	}
	return out
}
