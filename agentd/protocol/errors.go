package protocol

import "fmt"

// Code is a stable, machine-readable error code carried by [Error]. Clients switch on it; the
// message beside it is for people and may change.
type Code string

// Error codes. The first group is produced by [Decode]/[DecodeServer], the second by [Checker],
// the third by the server when it refuses a well-formed request.
const (
	CodeBadJSON      Code = "bad_json"      // not a single well-formed JSON object in UTF-8
	CodeTooLarge     Code = "too_large"     // frame longer than MaxMessageSize
	CodeBadVersion   Code = "bad_version"   // v missing or not Version
	CodeUnknownType  Code = "unknown_type"  // type missing, unknown, or not sent in this direction
	CodeUnknownField Code = "unknown_field" // a key the message does not define (exact case), or a duplicate key
	CodeMissingField Code = "missing_field" // a required field is absent, null or empty
	CodeInvalidField Code = "invalid_field" // a field has the wrong JSON type or an invalid value

	CodeHelloRequired Code = "hello_required" // a message other than hello before the welcome
	CodeOutOfOrder    Code = "out_of_order"   // a message that makes no sense in the connection's current state

	CodeForbidden   Code = "forbidden"    // the user's role does not allow this message
	CodeNotFound    Code = "not_found"    // the queue, ticket, article, … named does not exist
	CodeConflict    Code = "conflict"     // the request lost a race (e.g. the offer was taken elsewhere)
	CodeRateLimited Code = "rate_limited" // too many messages; slow down
	CodeMediaFailed Code = "media_failed" // the WebRTC media path could not be set up or used
	CodeUnavailable Code = "unavailable"  // a dependency (Asterisk, database) is down; try again
	CodeInternal    Code = "internal"     // a bug or unexpected failure on the server
)

// Codes lists every error code, in documentation order.
func Codes() []Code {
	return []Code{
		CodeBadJSON, CodeTooLarge, CodeBadVersion, CodeUnknownType, CodeUnknownField,
		CodeMissingField, CodeInvalidField, CodeHelloRequired, CodeOutOfOrder, CodeForbidden,
		CodeNotFound, CodeConflict, CodeRateLimited, CodeMediaFailed, CodeUnavailable, CodeInternal,
	}
}

// Error is both the Go error returned by the decoder and the checker, and the payload of the
// "error" message sent to the client. Field is the JSON path of the offending field
// (e.g. "data.update.articles[2]"), empty when the error is not about one field.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`

	// Re is the id of the frame the error is about, when it could be read. It travels in the
	// envelope's re (see ErrorReply), not in data.
	Re string `json:"-"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorReply builds the "error" envelope answering err: a *Error is sent as it is (with re set to
// its Re); any other error becomes an "internal" error whose text is not revealed.
func ErrorReply(id string, err error) Envelope {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Code: CodeInternal, Message: "internal error"}
	}
	out := *e
	return Envelope{V: Version, Type: TypeError, ID: id, Re: e.Re, Data: &out}
}
