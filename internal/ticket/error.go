package ticket

import "fmt"

// Code classifies a refusal; the UI translates by code, logs and APIs carry it as is.
type Code string

const (
	// CodeInvalidActor: the actor has no known role, or is a unit worker without a unit.
	CodeInvalidActor Code = "invalid_actor"
	// CodeRoleNotAllowed: the actor's role may never take this action.
	CodeRoleNotAllowed Code = "role_not_allowed"
	// CodeOtherUnit: a unit worker acting on a ticket not forwarded to their unit.
	CodeOtherUnit Code = "other_unit"
	// CodeWrongStatus: the action is not allowed from the ticket's status.
	CodeWrongStatus Code = "wrong_status"
	// CodeNotOwner: a consultant or broker acting on a ticket another consultant owns.
	CodeNotOwner Code = "not_owner"
	// CodeKindRequired: the ticket must be classified (information, intervention, out of scope)
	// first, or the action does not fit its kind.
	CodeKindRequired Code = "kind_required"
	// CodeReportRequired: an intervention closed before the unit reported how and when it was
	// handled.
	CodeReportRequired Code = "report_required"
	// CodeNotADraft: marking abandoned a ticket that is not a phone call's unclassified draft.
	CodeNotADraft Code = "not_a_draft"
	// CodeInvalidField: a field of the action is missing or wrong; Error.Field names it.
	CodeInvalidField Code = "invalid_field"
)

// Error is a refused action: a code, the field at fault if any, and a sentence for people saying
// who may not do what and why.
type Error struct {
	Code   Code       `json:"code"`
	Action ActionType `json:"action"`
	Field  string     `json:"field,omitempty"`
	// Message is an English sentence; the UI shows its own translation of Code where it has one.
	Message string `json:"message"`
}

func (e *Error) Error() string { return "ticket: " + e.Action.String() + ": " + e.Message }

func refuse(code Code, a ActionType, format string, args ...any) *Error {
	return &Error{Code: code, Action: a, Message: fmt.Sprintf(format, args...)}
}

func invalidField(a ActionType, field, format string, args ...any) *Error {
	e := refuse(CodeInvalidField, a, format, args...)
	e.Field = field
	return e
}
