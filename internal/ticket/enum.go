package ticket

import "fmt"

// names is the snake_case spelling of each value of a small enum, indexed by value; index 0 is
// the Unknown zero value.
type names[T ~uint8] []string

func (n names[T]) str(v T) string {
	if int(v) < len(n) {
		return n[v]
	}
	return fmt.Sprintf("%s(%d)", n[0], v)
}

func (n names[T]) parse(what, s string) (T, error) {
	for i, name := range n {
		if name == s {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("ticket: unknown %s %q", what, s)
}

// Kind is what a ticket asks for.
type Kind uint8

const (
	// KindUnknown is a draft not classified yet, as a phone call's ticket is until the
	// consultant classifies it.
	KindUnknown Kind = iota
	// KindInformation is an information request (zgłoszenie informacyjne): how do I ...?
	KindInformation
	// KindIntervention is an intervention (zgłoszenie interwencyjne): a unit must act.
	KindIntervention
	// KindOutOfScope is a matter outside the contact center's scope: forwarded to whoever is
	// competent and closed.
	KindOutOfScope
)

var kindNames = names[Kind]{"unknown", "information", "intervention", "out_of_scope"}

func (k Kind) String() string                { return kindNames.str(k) }
func (k Kind) MarshalText() ([]byte, error)  { return []byte(k.String()), nil }
func (k *Kind) UnmarshalText(b []byte) error { v, err := ParseKind(string(b)); *k = v; return err }
func ParseKind(s string) (Kind, error)       { return kindNames.parse("kind", s) }

// Status is where a ticket is in its lifecycle (see README.md).
type Status uint8

const (
	// StatusUnknown is the zero value: a ticket not registered yet.
	StatusUnknown Status = iota
	// StatusNew is registered, not taken or handled yet.
	StatusNew
	// StatusInProgress is being handled by the first line.
	StatusInProgress
	// StatusForwarded is with a unit (second line) that must handle it and report back.
	StatusForwarded
	// StatusResolvedByUnit is reported as handled by the unit; the consultant closes it.
	StatusResolvedByUnit
	// StatusClosed is done (zakończone).
	StatusClosed
	// StatusMerged is a draft merged into another ticket (see Ticket.MergedInto).
	StatusMerged
	// StatusAbandonedCall is a phone call's draft whose call ended without a conversation.
	StatusAbandonedCall
)

var statusNames = names[Status]{"unknown", "new", "in_progress", "forwarded", "resolved_by_unit", "closed", "merged", "abandoned_call"}

func (s Status) String() string                { return statusNames.str(s) }
func (s Status) MarshalText() ([]byte, error)  { return []byte(s.String()), nil }
func (s *Status) UnmarshalText(b []byte) error { v, err := ParseStatus(string(b)); *s = v; return err }
func ParseStatus(s string) (Status, error)     { return statusNames.parse("status", s) }

// Open reports whether a ticket in s still needs work: new, in progress, forwarded or resolved
// by the unit but not closed.
func (s Status) Open() bool {
	return s == StatusNew || s == StatusInProgress || s == StatusForwarded || s == StatusResolvedByUnit
}

// Role is what an actor is in the contact center.
type Role uint8

const (
	RoleUnknown Role = iota
	// RoleConsultant is a first-line consultant (konsultant).
	RoleConsultant
	// RoleBroker is a subject-matter specialist consultants escalate to; first line too.
	RoleBroker
	// RoleSupervisor oversees the floor: everything a consultant may do, plus reopen and reassign.
	RoleSupervisor
	// RoleAdministrator configures the system; does not handle tickets.
	RoleAdministrator
	// RoleUnitWorker is second line: staff of a unit, acting on tickets forwarded to their unit.
	RoleUnitWorker
	// RoleSystem is Kontakt itself: the switchboard, the Open311 endpoint, the escalation job.
	RoleSystem
)

var roleNames = names[Role]{"unknown", "consultant", "broker", "supervisor", "administrator", "unit_worker", "system"}

func (r Role) String() string                { return roleNames.str(r) }
func (r Role) MarshalText() ([]byte, error)  { return []byte(r.String()), nil }
func (r *Role) UnmarshalText(b []byte) error { v, err := ParseRole(string(b)); *r = v; return err }
func ParseRole(s string) (Role, error)       { return roleNames.parse("role", s) }

// FirstLine reports whether r handles tickets on the first line: consultant, broker, supervisor.
func (r Role) FirstLine() bool {
	return r == RoleConsultant || r == RoleBroker || r == RoleSupervisor
}

// Channel is how a ticket came in.
type Channel uint8

const (
	ChannelUnknown Channel = iota
	ChannelPhone
	ChannelWebForm
	ChannelChat
	ChannelEmail
	ChannelFax
	ChannelInPerson
	ChannelMobileApp
)

var channelNames = names[Channel]{"unknown", "phone", "web_form", "chat", "email", "fax", "in_person", "mobile_app"}

func (c Channel) String() string               { return channelNames.str(c) }
func (c Channel) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
func (c *Channel) UnmarshalText(b []byte) error {
	v, err := ParseChannel(string(b))
	*c = v
	return err
}
func ParseChannel(s string) (Channel, error) { return channelNames.parse("channel", s) }

// ActionType names an Action.
type ActionType uint8

const (
	ActionUnknown ActionType = iota
	ActionRegister
	ActionClassify
	ActionTake
	ActionForward
	ActionReturn
	ActionReport
	ActionClose
	ActionReopen
	ActionReassign
	ActionMerge
	ActionAbandon
	ActionAddContact
	ActionAddNote
	ActionEscalate
)

var actionNames = names[ActionType]{"unknown", "register", "classify", "take", "forward", "return", "report", "close", "reopen", "reassign", "merge", "abandon", "add_contact", "add_note", "escalate"}

func (a ActionType) String() string               { return actionNames.str(a) }
func (a ActionType) MarshalText() ([]byte, error) { return []byte(a.String()), nil }
func (a *ActionType) UnmarshalText(b []byte) error {
	v, err := ParseActionType(string(b))
	*a = v
	return err
}
func ParseActionType(s string) (ActionType, error) { return actionNames.parse("action", s) }

// EscalationLevel is how far an overdue ticket has been escalated.
type EscalationLevel uint8

const (
	// EscalationNone: not overdue, or nobody notified yet.
	EscalationNone EscalationLevel = iota
	// EscalationOwner: the owning consultant is notified.
	EscalationOwner
	// EscalationSupervisor: the supervisors are notified.
	EscalationSupervisor
)

var escalationNames = names[EscalationLevel]{"none", "owner", "supervisor"}

func (l EscalationLevel) String() string               { return escalationNames.str(l) }
func (l EscalationLevel) MarshalText() ([]byte, error) { return []byte(l.String()), nil }
func (l *EscalationLevel) UnmarshalText(b []byte) error {
	v, err := ParseEscalationLevel(string(b))
	*l = v
	return err
}
func ParseEscalationLevel(s string) (EscalationLevel, error) {
	return escalationNames.parse("escalation level", s)
}
