package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"kontakt/internal/ticket"
)

// MaxBody bounds a request body of the CRM API.
const MaxBody = 1 << 20

// BadRequest is a body that is not the JSON asked for: malformed, of the wrong type, with unknown
// fields. Fields names the fields at fault where JSON says which.
type BadRequest struct {
	Fields []FieldError
}

func (e *BadRequest) Error() string {
	if len(e.Fields) == 0 {
		return "bad request"
	}
	return "bad request: " + e.Fields[0].Field + ": " + e.Fields[0].Message
}

// decodeJSON decodes one JSON object into v strictly: unknown fields and trailing data are
// errors, reported with the field's name where there is one.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &BadRequest{Fields: []FieldError{{Field: "body", Code: "required", Message: "a JSON object is required"}}}
	}
	if len(body) > MaxBody {
		return &BadRequest{Fields: []FieldError{{Field: "body", Code: "too_large", Message: fmt.Sprintf("at most %d bytes", MaxBody)}}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return &BadRequest{Fields: []FieldError{{Field: "body", Code: "syntax", Message: "one JSON object only"}}}
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &BadRequest{Fields: []FieldError{{Field: field, Code: "type", Message: fmt.Sprintf("want %s, not %s", jsonType(te.Type.Kind().String()), te.Value)}}}
	case errors.As(err, &se):
		return &BadRequest{Fields: []FieldError{{Field: "body", Code: "syntax", Message: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if name := strings.Trim(quoted, `"`); name != "" {
			return &BadRequest{Fields: []FieldError{{Field: name, Code: "unknown", Message: "no such field"}}}
		}
		return &BadRequest{Fields: []FieldError{{Field: "body", Code: "unknown", Message: "no such field: " + quoted}}}
	}
	return &BadRequest{Fields: []FieldError{{Field: "body", Code: "syntax", Message: err.Error()}}}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "ptr":
		return "a value"
	}
	return "a number"
}

// parseEnum reads an enum's snake_case name into v, adding a field error when it is unknown;
// "" leaves v zero unless required.
func parseEnum[T any](f *fields, field, s string, required bool, parse func(string) (T, error), want string) T {
	var zero T
	if s == "" {
		if required {
			f.add(field, "required", "one of %s", want)
		}
		return zero
	}
	v, err := parse(s)
	if err != nil {
		f.add(field, "invalid", "%q is not one of %s", s, want)
		return zero
	}
	return v
}

const (
	kinds    = "information, intervention, out_of_scope"
	channels = "web_form, chat, email, fax, in_person, mobile_app"
)

// newTicketBody is POST /api/v1/tickets.
type newTicketBody struct {
	Channel     string            `json:"channel"`
	Kind        string            `json:"kind"`
	Category    string            `json:"category"`
	Description string            `json:"description"`
	CallerName  string            `json:"caller_name"`
	CallerPhone string            `json:"caller_phone"`
	CallerEmail string            `json:"caller_email"`
	Address     Address           `json:"address"`
	Attributes  map[string]string `json:"attributes"`
	MediaURL    string            `json:"media_url"`
	Note        string            `json:"note"`
}

// DecodeNewTicket reads the body of POST /api/v1/tickets.
func DecodeNewTicket(body []byte) (NewTicket, error) {
	var b newTicketBody
	if err := decodeJSON(body, &b); err != nil {
		return NewTicket{}, err
	}
	var f fields
	nt := NewTicket{
		Channel:  parseEnum(&f, "channel", b.Channel, true, ticket.ParseChannel, channels),
		Kind:     parseEnum(&f, "kind", b.Kind, false, ticket.ParseKind, kinds),
		Category: b.Category, Description: b.Description, CallerName: b.CallerName, CallerPhone: b.CallerPhone,
		CallerEmail: b.CallerEmail, Address: b.Address, Attributes: b.Attributes, MediaURL: b.MediaURL, Note: b.Note,
	}
	return nt, f.err()
}

// actionBody is POST /api/v1/tickets/{ref}/actions.
type actionBody struct {
	Action   string `json:"action"`
	Kind     string `json:"kind"`
	Category string `json:"category"`
	Unit     string `json:"unit"`
	External string `json:"external"`
	Note     string `json:"note"`
	Reason   string `json:"reason"`
	How      string `json:"how"`
	When     string `json:"when"`
	To       int64  `json:"to"`
	Channel  string `json:"channel"`
	Text     string `json:"text"`
	Level    string `json:"level"`
}

// DecodeAction reads the body of POST /api/v1/tickets/{ref}/actions.
func DecodeAction(body []byte) (ActionRequest, error) {
	var b actionBody
	if err := decodeJSON(body, &b); err != nil {
		return ActionRequest{}, err
	}
	var f fields
	r := ActionRequest{
		Action: parseEnum(&f, "action", b.Action, true, ticket.ParseActionType,
			"classify, take, forward, return, report, close, reopen, reassign, abandon, add_contact, add_note"),
		Kind:     parseEnum(&f, "kind", b.Kind, false, ticket.ParseKind, kinds),
		Category: b.Category, Unit: b.Unit, External: b.External, Note: b.Note, Reason: b.Reason, How: b.How,
		To:      ticket.UserID(b.To),
		Channel: parseEnum(&f, "channel", b.Channel, false, ticket.ParseChannel, "phone, "+channels),
		Text:    b.Text,
		Level:   parseEnum(&f, "level", b.Level, false, ticket.ParseEscalationLevel, "owner, supervisor"),
	}
	if b.When != "" {
		w, err := time.Parse(time.RFC3339, b.When)
		if err != nil {
			f.add("when", "invalid", "a time like 2026-05-04T10:30:00+02:00")
		}
		r.When = w
	}
	if b.To < 0 {
		f.add("to", "invalid", "a user id")
	}
	return r, f.err()
}

// DecodeEdit reads the body of PATCH /api/v1/tickets/{ref}.
func DecodeEdit(body []byte) (Edit, error) {
	var e Edit
	err := decodeJSON(body, &e)
	return e, err
}

// linkBody is POST /api/v1/tickets/{ref}/link.
type linkBody struct {
	Into string `json:"into"`
}

// DecodeLink reads the body of POST /api/v1/tickets/{ref}/link: the ticket to merge into, by
// number (2026/000123) or id.
func DecodeLink(body []byte) (string, error) {
	var b linkBody
	if err := decodeJSON(body, &b); err != nil {
		return "", err
	}
	if strings.TrimSpace(b.Into) == "" {
		return "", &ValidationError{Fields: []FieldError{{Field: "into", Code: "required", Message: "the ticket to link to, by number or id"}}}
	}
	return strings.TrimSpace(b.Into), nil
}

// articleBody is POST /api/v1/articles and PUT /api/v1/articles/{id}.
type articleBody struct {
	ArticleFields
	// Version is the version an edit started from (PUT only).
	Version int `json:"version"`
}

// DecodeArticle reads the body of POST or PUT of an article, and the version it was edited from.
func DecodeArticle(body []byte) (ArticleFields, int, error) {
	var b articleBody
	if err := decodeJSON(body, &b); err != nil {
		return ArticleFields{}, 0, err
	}
	return b.ArticleFields, b.Version, nil
}

// useArticleBody is POST /api/v1/tickets/{ref}/articles.
type useArticleBody struct {
	ArticleID int64 `json:"article_id"`
}

// DecodeUseArticle reads the body of POST /api/v1/tickets/{ref}/articles.
func DecodeUseArticle(body []byte) (int64, error) {
	var b useArticleBody
	if err := decodeJSON(body, &b); err != nil {
		return 0, err
	}
	if b.ArticleID <= 0 {
		return 0, &ValidationError{Fields: []FieldError{{Field: "article_id", Code: "required", Message: "the article's id"}}}
	}
	return b.ArticleID, nil
}

// categoryBody is POST /api/v1/categories.
type categoryBody struct {
	Code        string      `json:"code"`
	Name        string      `json:"name"`
	NameEN      string      `json:"name_en"`
	Description string      `json:"description"`
	Kind        string      `json:"kind"`
	Unit        string      `json:"unit"`
	Due         string      `json:"due"`
	Group       string      `json:"group"`
	Keywords    []string    `json:"keywords"`
	Attributes  []Attribute `json:"attributes"`
	Active      *bool       `json:"active"`
}

// DecodeCategory reads the body of POST or PUT of a category.
func DecodeCategory(body []byte) (Category, error) {
	var b categoryBody
	if err := decodeJSON(body, &b); err != nil {
		return Category{}, err
	}
	var f fields
	c := Category{Code: b.Code, Name: b.Name, NameEN: b.NameEN, Description: b.Description, Unit: b.Unit,
		Group: b.Group, Keywords: b.Keywords, Attributes: b.Attributes, Active: b.Active == nil || *b.Active,
		Kind: parseEnum(&f, "kind", b.Kind, true, ticket.ParseKind, kinds)}
	due, err := ticket.ParseDueRule(b.Due)
	if err != nil {
		f.add("due", "invalid", "%v", err)
	}
	c.Due = due
	return c, f.err()
}

// unitBody is POST /api/v1/units.
type unitBody struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	ShortName string `json:"short_name"`
	Type      string `json:"type"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Active    *bool  `json:"active"`
}

// DecodeUnit reads the body of POST or PUT of a unit.
func DecodeUnit(body []byte) (Unit, error) {
	var b unitBody
	if err := decodeJSON(body, &b); err != nil {
		return Unit{}, err
	}
	return Unit{Code: b.Code, Name: b.Name, ShortName: b.ShortName, Type: b.Type, Email: b.Email, Phone: b.Phone,
		Active: b.Active == nil || *b.Active}, nil
}

// open311ClientBody is POST /api/v1/open311-clients.
type open311ClientBody struct {
	Name    string `json:"name"`
	Channel string `json:"channel"`
}

// DecodeOpen311Client reads the body of POST /api/v1/open311-clients.
func DecodeOpen311Client(body []byte) (string, ticket.Channel, error) {
	var b open311ClientBody
	if err := decodeJSON(body, &b); err != nil {
		return "", 0, err
	}
	var f fields
	if n := len([]rune(strings.TrimSpace(b.Name))); n < 2 || n > 200 {
		f.add("name", "invalid", "a name is 2–200 characters")
	}
	ch := parseEnum(&f, "channel", b.Channel, true, ticket.ParseChannel, "web_form, mobile_app")
	return strings.TrimSpace(b.Name), ch, f.err()
}
