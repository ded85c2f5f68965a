package ticket

import (
	"strings"
	"time"
)

// Action is something an actor does to a ticket. The set is closed: the types below.
type Action interface {
	Type() ActionType
	// do checks the action's own fields and changes t; Apply has checked role, unit, status and
	// ownership already. It returns the free text to keep in the history.
	do(t *Ticket, actor Actor, now time.Time) (note string, err *Error)
}

// Register creates a ticket: applied to the zero Ticket. The system registers phone tickets when
// the call comes in (a draft of kind unknown) and web-form and mobile-app tickets from Open311;
// the first line registers the other channels.
type Register struct {
	ID       ID
	Number   Number
	Channel  Channel
	Kind     Kind
	Category CategoryID
	Due      DueRule
	Note     string
}

// Classify sets the kind, category and due time of a new or in-progress ticket; a consultant
// classifies a phone draft after the conversation. The due time counts from registration.
type Classify struct {
	Kind     Kind
	Category CategoryID
	Due      DueRule
}

// Take is a consultant starting work on a new ticket, which becomes theirs.
type Take struct{}

// Forward sends a ticket to the competent unit (§ 8 ust. 3, § 9 ust. 2). An information request
// is forwarded when the knowledge-base article is not enough (Note says why) or when it came
// through the web form (the mobile app counts as one: both file through Open311); an
// intervention always goes to a unit. An out-of-scope ticket is sent to
// a unit or to an outside body (External) and is closed by that (§ 10).
type Forward struct {
	Unit     UnitID
	External string
	Note     string
}

// Return is a unit worker sending a ticket forwarded to their unit back to the first line as not
// theirs to handle; Reason is required.
type Return struct {
	Reason string
}

// ReportHandled is the unit's report on a forwarded ticket: How and When it was handled, both
// required (§ 9 ust. 4). A consultant may record a report the unit gave by phone or e-mail.
type ReportHandled struct {
	How  string
	When time.Time
}

// Close marks a ticket done (zakończone). Note is information the consultant adds before
// closing (§ 8 ust. 5).
type Close struct {
	Note string
}

// Reopen is a supervisor reopening a closed ticket; Reason is required.
type Reopen struct {
	Reason string
}

// Reassign is a supervisor giving a ticket to another consultant.
type Reassign struct {
	To   UserID
	Note string
}

// Merge links a draft (typically a call's) to an existing ticket instead of keeping it: the draft
// becomes merged and points at Into, which the caller loads so the rule can check it. The caller
// also applies AddContact to Into.
type Merge struct {
	Into Ticket
}

// Abandon marks a phone call's draft whose call ended before anyone talked to the caller.
type Abandon struct{}

// AddContact counts a repeat contact about the ticket (a call linked to it, a merged draft).
type AddContact struct {
	Channel Channel
	Note    string
}

// AddNote adds a note to the history without changing the ticket.
type AddNote struct {
	Text string
}

// Escalate records that an overdue ticket was escalated to Level; see CheckEscalation.
type Escalate struct {
	Level EscalationLevel
}

func (Register) Type() ActionType      { return ActionRegister }
func (Classify) Type() ActionType      { return ActionClassify }
func (Take) Type() ActionType          { return ActionTake }
func (Forward) Type() ActionType       { return ActionForward }
func (Return) Type() ActionType        { return ActionReturn }
func (ReportHandled) Type() ActionType { return ActionReport }
func (Close) Type() ActionType         { return ActionClose }
func (Reopen) Type() ActionType        { return ActionReopen }
func (Reassign) Type() ActionType      { return ActionReassign }
func (Merge) Type() ActionType         { return ActionMerge }
func (Abandon) Type() ActionType       { return ActionAbandon }
func (AddContact) Type() ActionType    { return ActionAddContact }
func (AddNote) Type() ActionType       { return ActionAddNote }
func (Escalate) Type() ActionType      { return ActionEscalate }

// selfService reports whether c is a written self-service channel, the web form of § 8 ust. 3.
func selfService(c Channel) bool { return c == ChannelWebForm || c == ChannelMobileApp }

// blank reports whether a required text is missing.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// checkClassification is shared by Register and Classify: information requests and interventions
// need a category (it sets the unit and due time); out-of-scope tickets may have none.
func checkClassification(a ActionType, kind Kind, category CategoryID, due DueRule) *Error {
	if (kind == KindInformation || kind == KindIntervention) && category == 0 {
		return invalidField(a, "category", "a category is required for %s tickets: it decides the unit and the due time", kindLabel(kind))
	}
	if err := due.Validate(); err != nil {
		return invalidField(a, "due", "%v", err)
	}
	return nil
}

func (r Register) do(t *Ticket, actor Actor, now time.Time) (string, *Error) {
	if r.Channel == ChannelUnknown {
		return "", invalidField(ActionRegister, "channel", "the channel the ticket came through is required")
	}
	if r.Channel == ChannelPhone && actor.Role != RoleSystem {
		return "", invalidField(ActionRegister, "channel", "phone tickets are registered by the system when the call comes in; link the call to a ticket instead")
	}
	if !r.Number.IsZero() {
		if err := r.Number.Validate(); err != nil {
			return "", invalidField(ActionRegister, "number", "%v", err)
		}
	}
	if err := checkClassification(ActionRegister, r.Kind, r.Category, r.Due); err != nil {
		return "", err
	}
	*t = Ticket{
		ID: r.ID, Number: r.Number, Channel: r.Channel, Kind: r.Kind, Category: r.Category,
		Status: StatusNew, Registered: now, Contacts: 1,
	}
	t.Due = Due(now, r.Due)
	if actor.Role.FirstLine() {
		t.Owner = actor.User
	}
	return r.Note, nil
}

func (c Classify) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	if c.Kind == KindUnknown {
		return "", invalidField(ActionClassify, "kind", "say whether the ticket is an information request, an intervention or out of scope")
	}
	if err := checkClassification(ActionClassify, c.Kind, c.Category, c.Due); err != nil {
		return "", err
	}
	t.Kind, t.Category = c.Kind, c.Category
	if due := Due(t.Registered, c.Due); !due.Equal(t.Due) {
		t.Due, t.Escalated = due, EscalationNone
	}
	return "", nil
}

func (Take) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	t.Status = StatusInProgress
	return "", nil
}

func (f Forward) do(t *Ticket, _ Actor, now time.Time) (string, *Error) {
	switch t.Kind {
	case KindUnknown:
		return "", refuse(CodeKindRequired, ActionForward, "classify the ticket before forwarding it: an information request, an intervention or out of scope")
	case KindOutOfScope:
		if (f.Unit == 0) == blank(f.External) {
			return "", invalidField(ActionForward, "unit", "an out-of-scope ticket is forwarded to one unit or one outside body (external), not both or neither")
		}
		t.Unit, t.ForwardedTo, t.ForwardedAt = f.Unit, strings.TrimSpace(f.External), now
		t.Status, t.ClosedAt = StatusClosed, now
		return f.Note, nil
	}
	if f.Unit == 0 {
		return "", invalidField(ActionForward, "unit", "the competent unit is required")
	}
	if !blank(f.External) {
		return "", invalidField(ActionForward, "external", "only out-of-scope tickets go to outside bodies; %s tickets go to a city unit", kindLabel(t.Kind))
	}
	if t.Status == StatusForwarded && f.Unit == t.Unit {
		return "", invalidField(ActionForward, "unit", "the ticket is already forwarded to unit %s", f.Unit)
	}
	if t.Kind == KindInformation && !selfService(t.Channel) && blank(f.Note) {
		return "", invalidField(ActionForward, "note", "say why the knowledge-base article is not enough to answer: an information request is forwarded only then, or when it came through the web form or the mobile app")
	}
	t.Unit, t.ForwardedAt, t.Status, t.Report = f.Unit, now, StatusForwarded, Report{}
	return f.Note, nil
}

func (r Return) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	if blank(r.Reason) {
		return "", invalidField(ActionReturn, "reason", "say why the ticket is not for your unit, so the consultant can forward it to the right one")
	}
	t.Unit, t.ForwardedAt, t.Status = 0, time.Time{}, StatusInProgress
	return r.Reason, nil
}

func (r ReportHandled) do(t *Ticket, actor Actor, now time.Time) (string, *Error) {
	if blank(r.How) {
		return "", invalidField(ActionReport, "how", "say how the ticket was handled")
	}
	if r.When.IsZero() {
		return "", invalidField(ActionReport, "when", "say when the ticket was handled")
	}
	if r.When.After(now) {
		return "", invalidField(ActionReport, "when", "the time it was handled (%s) is in the future", r.When.Format(time.RFC3339))
	}
	t.Report = Report{How: strings.TrimSpace(r.How), When: r.When, By: actor.User, At: now}
	t.Status = StatusResolvedByUnit
	return r.How, nil
}

func (c Close) do(t *Ticket, _ Actor, now time.Time) (string, *Error) {
	switch t.Kind {
	case KindUnknown:
		return "", refuse(CodeKindRequired, ActionClose, "classify the ticket before closing it")
	case KindOutOfScope:
		return "", refuse(CodeKindRequired, ActionClose, "an out-of-scope ticket is closed by forwarding it to whoever is competent")
	case KindIntervention:
		if t.Status != StatusResolvedByUnit {
			return "", refuse(CodeReportRequired, ActionClose, "an intervention is closed only after the unit reports how and when it was handled; forward it to the competent unit")
		}
	}
	t.Status, t.ClosedAt = StatusClosed, now
	return c.Note, nil
}

func (r Reopen) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	if blank(r.Reason) {
		return "", invalidField(ActionReopen, "reason", "say why the ticket is reopened")
	}
	t.Status, t.ClosedAt, t.Escalated = StatusInProgress, time.Time{}, EscalationNone
	return r.Reason, nil
}

func (r Reassign) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	if r.To == 0 {
		return "", invalidField(ActionReassign, "to", "the consultant to reassign the ticket to is required")
	}
	if r.To == t.Owner {
		return "", invalidField(ActionReassign, "to", "user %s owns the ticket already", r.To)
	}
	t.Owner = r.To
	if t.Escalated == EscalationOwner {
		t.Escalated = EscalationNone // the new owner is told too
	}
	return r.Note, nil
}

func (m Merge) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	into := m.Into
	switch {
	case into.ID == 0:
		return "", invalidField(ActionMerge, "into", "the ticket to merge into is required")
	case into.ID == t.ID:
		return "", invalidField(ActionMerge, "into", "a ticket cannot be merged into itself")
	case into.Status == StatusUnknown || into.Status == StatusMerged || into.Status == StatusAbandonedCall:
		return "", invalidField(ActionMerge, "into", "ticket %s is %s; merge into the ticket it stands for", label(into), statusLabel(into.Status))
	}
	t.Status, t.MergedInto = StatusMerged, into.ID
	return "", nil
}

func (Abandon) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	if t.Channel != ChannelPhone || t.Kind != KindUnknown {
		return "", refuse(CodeNotADraft, ActionAbandon, "only a phone call's unclassified draft is marked abandoned; ticket %s is a %s ticket of kind %s", label(*t), t.Channel, kindLabel(t.Kind))
	}
	t.Status = StatusAbandonedCall
	return "", nil
}

func (c AddContact) do(t *Ticket, _ Actor, _ time.Time) (string, *Error) {
	if c.Channel == ChannelUnknown {
		return "", invalidField(ActionAddContact, "channel", "the channel of the repeat contact is required")
	}
	t.Contacts++
	return c.Note, nil
}

func (n AddNote) do(*Ticket, Actor, time.Time) (string, *Error) {
	if blank(n.Text) {
		return "", invalidField(ActionAddNote, "text", "the note is empty")
	}
	return n.Text, nil
}

func (e Escalate) do(t *Ticket, _ Actor, now time.Time) (string, *Error) {
	if e.Level != EscalationOwner && e.Level != EscalationSupervisor {
		return "", invalidField(ActionEscalate, "level", "escalate to the owner or to the supervisors")
	}
	if !Overdue(*t, now) {
		return "", invalidField(ActionEscalate, "level", "ticket %s is not overdue", label(*t))
	}
	if e.Level <= t.Escalated {
		return "", invalidField(ActionEscalate, "level", "ticket %s is escalated to %s already", label(*t), t.Escalated)
	}
	if e.Level == EscalationOwner && t.Owner == 0 {
		return "", invalidField(ActionEscalate, "level", "ticket %s has no owner; escalate to the supervisors", label(*t))
	}
	t.Escalated = e.Level
	return "", nil
}
