package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/store"
	"kontakt/internal/textpl"
	"kontakt/internal/ticket"
)

// Address is where the matter is: free text as the resident gave it, the street and house number
// it was read as, and coordinates when a map or a phone gave them.
type Address struct {
	Text        string   `json:"text,omitempty"`
	Street      string   `json:"street,omitempty"`
	HouseNumber string   `json:"house_number,omitempty"`
	Lat         *float64 `json:"lat,omitempty"`
	Lon         *float64 `json:"lon,omitempty"`
}

// Report is the unit's report on a forwarded ticket.
type Report struct {
	How  string        `json:"how"`
	When time.Time     `json:"when"`
	By   ticket.UserID `json:"by,omitempty"`
	At   time.Time     `json:"at"`
}

// Ticket is a ticket as the staff API shows it.
type Ticket struct {
	ID               ticket.ID              `json:"id"`
	Number           ticket.Number          `json:"number"`
	Kind             ticket.Kind            `json:"kind"`
	Status           ticket.Status          `json:"status"`
	Channel          ticket.Channel         `json:"channel"`
	CategoryID       ticket.CategoryID      `json:"category_id,omitempty"`
	Category         string                 `json:"category,omitempty"`
	CategoryName     string                 `json:"category_name,omitempty"`
	UnitID           ticket.UnitID          `json:"unit_id,omitempty"`
	Unit             string                 `json:"unit,omitempty"`
	UnitName         string                 `json:"unit_name,omitempty"`
	Owner            ticket.UserID          `json:"owner,omitempty"`
	ForwardedTo      string                 `json:"forwarded_to,omitempty"`
	ForwardedAt      time.Time              `json:"forwarded_at,omitzero"`
	Due              time.Time              `json:"due,omitzero"`
	Overdue          bool                   `json:"overdue"`
	Escalation       ticket.EscalationLevel `json:"escalation"`
	Contacts         int                    `json:"contacts"`
	MergedInto       ticket.ID              `json:"merged_into,omitempty"`
	MergedIntoNumber string                 `json:"merged_into_number,omitempty"`
	Report           *Report                `json:"report,omitempty"`
	CallerPhone      string                 `json:"caller_phone,omitempty"`
	CallerName       string                 `json:"caller_name,omitempty"`
	CallerEmail      string                 `json:"caller_email,omitempty"`
	Description      string                 `json:"description"`
	Address          Address                `json:"address"`
	Attributes       map[string]string      `json:"attributes,omitempty"`
	MediaURL         string                 `json:"media_url,omitempty"`
	Registered       time.Time              `json:"registered"`
	Updated          time.Time              `json:"updated"`
	ClosedAt         time.Time              `json:"closed_at,omitzero"`
}

// rules is the part of t the lifecycle rules read and write.
func (t Ticket) rules() ticket.Ticket {
	r := ticket.Ticket{
		ID: t.ID, Number: t.Number, Kind: t.Kind, Status: t.Status, Channel: t.Channel,
		Category: t.CategoryID, Owner: t.Owner, Unit: t.UnitID, ForwardedTo: t.ForwardedTo,
		Registered: t.Registered, ForwardedAt: t.ForwardedAt, Due: t.Due, MergedInto: t.MergedInto,
		Contacts: t.Contacts, ClosedAt: t.ClosedAt, Escalated: t.Escalation,
	}
	if t.Report != nil {
		r.Report = ticket.Report{How: t.Report.How, When: t.Report.When, By: t.Report.By, At: t.Report.At}
	}
	return r
}

// ticketSelect reads a ticket with its category's, unit's and merge target's names.
const ticketSelect = `SELECT t.id, t.number, t.kind, t.status, t.channel, coalesce(t.category_id, 0),
	coalesce(c.code, ''), coalesce(c.name, ''), coalesce(t.unit_id, 0), coalesce(u.code, ''), coalesce(u.name, ''),
	coalesce(t.owner_id, 0), t.forwarded_to, t.forwarded_at, t.due_at, t.escalation, t.contacts,
	coalesce(t.merged_into, 0), coalesce(m.number, ''), t.report_how, t.report_when, coalesce(t.report_by, 0), t.report_at,
	coalesce(t.caller_phone, ''), coalesce(t.caller_name, ''), t.caller_email, t.description,
	t.address, t.street, t.house_number, t.lat, t.lon, t.attributes, t.media_url, t.created_at, t.updated_at, t.closed_at
	FROM tickets t
	LEFT JOIN categories c ON c.id = t.category_id
	LEFT JOIN units u ON u.id = t.unit_id
	LEFT JOIN tickets m ON m.id = t.merged_into `

func scanTicket(r pgx.Row, now time.Time) (Ticket, error) {
	var t Ticket
	var number, kind, status, channel, esc string
	var fwdAt, due, repWhen, repAt, closed *time.Time
	var attrs []byte
	var rep Report
	err := r.Scan(&t.ID, &number, &kind, &status, &channel, &t.CategoryID, &t.Category, &t.CategoryName,
		&t.UnitID, &t.Unit, &t.UnitName, &t.Owner, &t.ForwardedTo, &fwdAt, &due, &esc, &t.Contacts,
		&t.MergedInto, &t.MergedIntoNumber, &rep.How, &repWhen, &rep.By, &repAt,
		&t.CallerPhone, &t.CallerName, &t.CallerEmail, &t.Description,
		&t.Address.Text, &t.Address.Street, &t.Address.HouseNumber, &t.Address.Lat, &t.Address.Lon,
		&attrs, &t.MediaURL, &t.Registered, &t.Updated, &closed)
	if err != nil {
		return t, err
	}
	t.Number, _ = ticket.ParseNumber(number)
	t.Kind, _ = ticket.ParseKind(kind)
	t.Status, _ = ticket.ParseStatus(status)
	t.Channel, _ = ticket.ParseChannel(channel)
	t.Escalation, _ = ticket.ParseEscalationLevel(esc)
	loc := now.Location()
	t.ForwardedAt, t.Due, t.ClosedAt = inLoc(fwdAt, loc), inLoc(due, loc), inLoc(closed, loc)
	t.Registered, t.Updated = t.Registered.In(loc), t.Updated.In(loc)
	if rep.How != "" {
		rep.When, rep.At = inLoc(repWhen, loc), inLoc(repAt, loc)
		t.Report = &rep
	}
	if len(attrs) > 2 {
		_ = json.Unmarshal(attrs, &t.Attributes)
	}
	t.Overdue = ticket.Overdue(t.rules(), now)
	return t, nil
}

// inLoc is *t in loc, the zero time for nil.
func inLoc(t *time.Time, loc *time.Location) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.In(loc)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullID[T ~int64](id T) any {
	if id == 0 {
		return nil
	}
	return int64(id)
}

func (s *Service) getTicket(ctx context.Context, db DB, id ticket.ID, lock bool) (Ticket, error) {
	q := ticketSelect + `WHERE t.id = $1`
	if lock {
		q += ` FOR UPDATE OF t`
	}
	t, err := scanTicket(db.QueryRow(ctx, q, int64(id)), s.now())
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// Ticket returns a ticket by id, if actor may see it.
func (s *Service) Ticket(ctx context.Context, actor ticket.Actor, id ticket.ID) (Ticket, error) {
	t, err := s.getTicket(ctx, s.db, id, false)
	if err != nil {
		return t, err
	}
	if !ticket.Visible(t.rules(), actor) {
		return Ticket{}, ErrNotFound
	}
	return t, nil
}

// TicketByNumber returns a ticket by its number, if actor may see it.
func (s *Service) TicketByNumber(ctx context.Context, actor ticket.Actor, n ticket.Number) (Ticket, error) {
	t, err := scanTicket(s.db.QueryRow(ctx, ticketSelect+`WHERE t.number = $1`, n.String()), s.now())
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, err
	}
	if !ticket.Visible(t.rules(), actor) {
		return Ticket{}, ErrNotFound
	}
	return t, nil
}

// saveState writes the lifecycle fields of after, and the category's and unit's codes into the
// text columns of v1.
func saveState(ctx context.Context, tx pgx.Tx, after ticket.Ticket, now time.Time) error {
	var rep struct {
		how  string
		when any
		by   any
		at   any
	}
	if !after.Report.IsZero() {
		rep.how, rep.when, rep.by, rep.at = after.Report.How, nullTime(after.Report.When), nullID(after.Report.By), nullTime(after.Report.At)
	}
	_, err := tx.Exec(ctx, `UPDATE tickets SET kind = $2, status = $3,
		category_id = $4, category = (SELECT code FROM categories WHERE id = $4),
		unit_id = $5, unit = (SELECT code FROM units WHERE id = $5),
		owner_id = $6, forwarded_to = $7, forwarded_at = $8, due_at = $9, escalation = $10, contacts = $11,
		merged_into = $12, report_how = $13, report_when = $14, report_by = $15, report_at = $16,
		closed_at = $17, updated_at = $18
		WHERE id = $1`,
		int64(after.ID), after.Kind.String(), after.Status.String(), nullID(after.Category), nullID(after.Unit),
		nullID(after.Owner), after.ForwardedTo, nullTime(after.ForwardedAt), nullTime(after.Due), after.Escalated.String(),
		after.Contacts, nullID(after.MergedInto), rep.how, rep.when, rep.by, rep.at, nullTime(after.ClosedAt), now)
	return err
}

// insertHistory saves a history entry; before and after hold each changed field.
func insertHistory(ctx context.Context, tx pgx.Tx, id ticket.ID, action string, actor ticket.Actor, at time.Time, note string, before, after map[string]string) error {
	if before == nil {
		before = map[string]string{}
	}
	if after == nil {
		after = map[string]string{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO ticket_history (ticket_id, at, action, actor_id, actor_role, actor_unit, note, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		int64(id), at, action, nullID(actor.User), actor.Role.String(), nullID(actor.Unit), note, before, after)
	return err
}

func saveChange(ctx context.Context, tx pgx.Tx, ch ticket.Change) error {
	before, after := map[string]string{}, map[string]string{}
	for _, f := range ch.Fields {
		before[f.Field], after[f.Field] = f.Before, f.After
	}
	return insertHistory(ctx, tx, ch.Ticket, ch.Action.String(), ch.Actor, ch.At, ch.Note, before, after)
}

// apply runs the lifecycle rule and saves the new state and its history.
func (s *Service) apply(ctx context.Context, tx pgx.Tx, t Ticket, a ticket.Action, actor ticket.Actor, now time.Time) (ticket.Ticket, error) {
	after, ch, err := ticket.Apply(t.rules(), a, actor, now)
	if err != nil {
		return after, err
	}
	if err := saveState(ctx, tx, after, now); err != nil {
		return after, err
	}
	return after, saveChange(ctx, tx, ch)
}

// NewTicket is a ticket registered through the API: any channel but phone (the switchboard
// registers calls), or web form and mobile app by Open311.
type NewTicket struct {
	Channel     ticket.Channel    `json:"channel"`
	Kind        ticket.Kind       `json:"kind"`
	Category    string            `json:"category"`
	Description string            `json:"description"`
	CallerName  string            `json:"caller_name"`
	CallerPhone string            `json:"caller_phone"`
	CallerEmail string            `json:"caller_email"`
	Address     Address           `json:"address"`
	Attributes  map[string]string `json:"attributes"`
	MediaURL    string            `json:"media_url"`
	// Note goes into the history with the registration.
	Note string `json:"note"`
}

var (
	emailRE = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$`)
	phoneRE = regexp.MustCompile(`^\+?[0-9]{3,20}$`)
)

// NormalizePhone strips the spaces, dashes, dots and parentheses people write phone numbers with.
func NormalizePhone(p string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.', '\u00a0':
			return -1
		}
		return r
	}, strings.TrimSpace(p))
}

// validateDetails checks what a person types: caller, description, address.
func validateDetails(f *fields, prefix string, desc *string, phone, email *string, name *string, a *Address, media *string) {
	if desc != nil {
		*desc = strings.TrimSpace(*desc)
		if len([]rune(*desc)) > 10000 {
			f.add(prefix+"description", "too_long", "at most 10000 characters")
		}
	}
	if name != nil {
		*name = strings.TrimSpace(*name)
		if len([]rune(*name)) > 200 {
			f.add(prefix+"caller_name", "too_long", "at most 200 characters")
		}
	}
	if phone != nil {
		*phone = NormalizePhone(*phone)
		if *phone != "" && !phoneRE.MatchString(*phone) {
			f.add(prefix+"caller_phone", "invalid", "a phone number is 3–20 digits, optionally after +")
		}
	}
	if email != nil {
		*email = strings.TrimSpace(*email)
		if *email != "" && (len(*email) > 254 || !emailRE.MatchString(*email)) {
			f.add(prefix+"caller_email", "invalid", "not an e-mail address")
		}
	}
	if media != nil {
		*media = strings.TrimSpace(*media)
		if *media != "" && (len(*media) > 2000 || !(strings.HasPrefix(*media, "https://") || strings.HasPrefix(*media, "http://"))) {
			f.add(prefix+"media_url", "invalid", "an http(s) URL of at most 2000 characters")
		}
	}
	if a != nil {
		a.Text, a.Street, a.HouseNumber = strings.TrimSpace(a.Text), strings.TrimSpace(a.Street), strings.TrimSpace(a.HouseNumber)
		if a.Street == "" && a.Text != "" {
			a.Street, a.HouseNumber = ParseAddress(a.Text)
		}
		if len([]rune(a.Text)) > 300 {
			f.add(prefix+"address.text", "too_long", "at most 300 characters")
		}
		if len([]rune(a.Street)) > 120 {
			f.add(prefix+"address.street", "too_long", "at most 120 characters")
		}
		if len([]rune(a.HouseNumber)) > 20 {
			f.add(prefix+"address.house_number", "too_long", "at most 20 characters")
		}
		if (a.Lat == nil) != (a.Lon == nil) {
			f.add(prefix+"address.lat", "incomplete", "give both lat and lon, or neither")
		}
		if a.Lat != nil && (*a.Lat < -90 || *a.Lat > 90 || *a.Lat != *a.Lat) {
			f.add(prefix+"address.lat", "out_of_range", "latitude is between -90 and 90")
		}
		if a.Lon != nil && (*a.Lon < -180 || *a.Lon > 180 || *a.Lon != *a.Lon) {
			f.add(prefix+"address.lon", "out_of_range", "longitude is between -180 and 180")
		}
	}
}

var houseNumberRE = regexp.MustCompile(`^[0-9]+[A-Za-z]?([/-][0-9A-Za-z]+)?$`)

// ParseAddress reads "ul. Piotrkowska 110, Łódź" as street "Piotrkowska" and number "110": the
// part before the first comma, without ul./al./pl./os., the last word being the number when it
// starts with a digit.
func ParseAddress(s string) (street, number string) {
	s, _, _ = strings.Cut(s, ",")
	words := strings.Fields(s)
	if len(words) > 0 {
		switch strings.ToLower(strings.TrimSuffix(words[0], ".")) {
		case "ul", "ulica", "al", "aleja", "aleje", "pl", "plac", "os", "osiedle":
			words = words[1:]
		}
	}
	if n := len(words); n > 1 && houseNumberRE.MatchString(words[n-1]) {
		number, words = words[n-1], words[:n-1]
	}
	return strings.Join(words, " "), number
}

// StreetKey is how streets compare for "same street": normalised (case, diacritics,
// punctuation), without the words ul./al. that people add or leave out.
func StreetKey(street string) string {
	words := textpl.Tokens(street)
	out := words[:0]
	for _, w := range words {
		switch w {
		case "ul", "ulica", "al", "aleja", "aleje", "pl", "plac":
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// CreateTicket registers a ticket as actor: the lifecycle's Register (a first-line role for every
// channel but phone; the system for web form and mobile app), with the category's kind, unit and
// due time, and the history entry.
func (s *Service) CreateTicket(ctx context.Context, actor ticket.Actor, nt NewTicket) (Ticket, error) {
	return s.createTicket(ctx, actor, nt, nil)
}

// createTicket is CreateTicket, running then in the same transaction.
func (s *Service) createTicket(ctx context.Context, actor ticket.Actor, nt NewTicket, then func(tx pgx.Tx, t Ticket) error) (Ticket, error) {
	var f fields
	if nt.Channel == ticket.ChannelUnknown {
		f.add("channel", "required", "the channel the ticket came through: web_form, chat, email, fax, in_person, mobile_app")
	}
	validateDetails(&f, "", &nt.Description, &nt.CallerPhone, &nt.CallerEmail, &nt.CallerName, &nt.Address, &nt.MediaURL)
	if nt.Description == "" {
		f.add("description", "required", "say what the ticket is about")
	}
	if len(nt.Attributes) > 50 {
		f.add("attributes", "too_many", "at most 50 attributes")
	}
	var cat Category
	if nt.Category != "" {
		c, err := s.Category(ctx, nt.Category)
		switch {
		case errors.Is(err, ErrNotFound):
			f.add("category", "unknown", "no category %q", nt.Category)
		case err != nil:
			return Ticket{}, err
		case !c.Active:
			f.add("category", "inactive", "category %q is no longer used", nt.Category)
		}
		cat = c
	}
	if err := f.err(); err != nil {
		return Ticket{}, err
	}
	kind := nt.Kind
	if kind == ticket.KindUnknown && cat.ID != 0 {
		kind = cat.Kind
	}
	now := s.now()
	reg := ticket.Register{Channel: nt.Channel, Kind: kind, Category: cat.ID, Due: cat.Due, Note: nt.Note}
	// The rule first, so that a refused registration takes no number.
	if _, _, err := ticket.Apply(ticket.Ticket{}, reg, actor, now); err != nil {
		return Ticket{}, err
	}
	var out Ticket
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		row, err := store.New(tx, s.loc).CreateTicket(ctx, store.Ticket{
			Channel: nt.Channel.String(), CallerPhone: nt.CallerPhone, Description: nt.Description, CreatedAt: now})
		if err != nil {
			return err
		}
		reg.ID = ticket.ID(row.ID)
		if reg.Number, err = ticket.ParseNumber(row.Number); err != nil {
			return err
		}
		after, ch, err := ticket.Apply(ticket.Ticket{}, reg, actor, now)
		if err != nil {
			return err
		}
		if err := saveState(ctx, tx, after, now); err != nil {
			return err
		}
		if err := saveDetails(ctx, tx, after.ID, nt.CallerName, nt.CallerEmail, nt.Address, nt.Attributes, nt.MediaURL); err != nil {
			return err
		}
		if err := saveChange(ctx, tx, ch); err != nil {
			return err
		}
		if out, err = s.getTicket(ctx, tx, after.ID, false); err != nil || then == nil {
			return err
		}
		return then(tx, out)
	})
	return out, err
}

func saveDetails(ctx context.Context, tx pgx.Tx, id ticket.ID, name, email string, a Address, attrs map[string]string, media string) error {
	if attrs == nil {
		attrs = map[string]string{}
	}
	_, err := tx.Exec(ctx, `UPDATE tickets SET caller_name = NULLIF($2, ''), caller_email = $3, address = $4, street = $5,
		house_number = $6, street_key = $7, lat = $8, lon = $9, attributes = $10, media_url = $11 WHERE id = $1`,
		int64(id), name, email, a.Text, a.Street, a.HouseNumber, StreetKey(a.Street), a.Lat, a.Lon, attrs, media)
	return err
}

// ActionRequest is a lifecycle action as the API takes it; which fields count depends on Action
// (see the OpenAPI document). Units and categories are given by code.
type ActionRequest struct {
	Action   ticket.ActionType      `json:"action"`
	Kind     ticket.Kind            `json:"kind"`
	Category string                 `json:"category"`
	Unit     string                 `json:"unit"`
	External string                 `json:"external"`
	Note     string                 `json:"note"`
	Reason   string                 `json:"reason"`
	How      string                 `json:"how"`
	When     time.Time              `json:"when"`
	To       ticket.UserID          `json:"to"`
	Channel  ticket.Channel         `json:"channel"`
	Text     string                 `json:"text"`
	Level    ticket.EscalationLevel `json:"level"`
}

// action builds the lifecycle action of r for t, looking up category and unit codes.
func (s *Service) action(ctx context.Context, db DB, t Ticket, r ActionRequest) (ticket.Action, error) {
	var f fields
	switch r.Action {
	case ticket.ActionClassify:
		var cat Category
		if r.Category != "" {
			c, err := s.categoryWhere(ctx, db, `c.code = $1`, r.Category)
			if errors.Is(err, ErrNotFound) {
				f.add("category", "unknown", "no category %q", r.Category)
			} else if err != nil {
				return nil, err
			}
			cat = c
		}
		kind := r.Kind
		if kind == ticket.KindUnknown {
			kind = cat.Kind
		}
		return ticket.Classify{Kind: kind, Category: cat.ID, Due: cat.Due}, f.err()
	case ticket.ActionTake:
		return ticket.Take{}, nil
	case ticket.ActionForward:
		var unit ticket.UnitID
		if r.Unit != "" {
			id, err := s.unitID(ctx, r.Unit)
			if errors.Is(err, ErrNotFound) {
				f.add("unit", "unknown", "no unit %q", r.Unit)
			} else if err != nil {
				return nil, err
			}
			unit = id
		} else if r.External == "" && t.Kind != ticket.KindOutOfScope && t.CategoryID != 0 {
			// The category's unit is the competent one unless the consultant says otherwise.
			c, err := s.categoryByID(ctx, db, t.CategoryID)
			if err != nil {
				return nil, err
			}
			unit = c.UnitID
		}
		return ticket.Forward{Unit: unit, External: r.External, Note: r.Note}, f.err()
	case ticket.ActionReturn:
		return ticket.Return{Reason: r.Reason}, nil
	case ticket.ActionReport:
		return ticket.ReportHandled{How: r.How, When: r.When}, nil
	case ticket.ActionClose:
		return ticket.Close{Note: r.Note}, nil
	case ticket.ActionReopen:
		return ticket.Reopen{Reason: r.Reason}, nil
	case ticket.ActionReassign:
		return ticket.Reassign{To: r.To, Note: r.Note}, nil
	case ticket.ActionAbandon:
		return ticket.Abandon{}, nil
	case ticket.ActionAddContact:
		return ticket.AddContact{Channel: r.Channel, Note: r.Note}, nil
	case ticket.ActionAddNote:
		return ticket.AddNote{Text: r.Text}, nil
	case ticket.ActionEscalate:
		return ticket.Escalate{Level: r.Level}, nil
	case ticket.ActionMerge:
		f.add("action", "use_link", "merge a draft with POST /api/v1/tickets/{id}/link")
	case ticket.ActionRegister:
		f.add("action", "use_create", "register a ticket with POST /api/v1/tickets")
	default:
		f.add("action", "unknown", "unknown action %q", r.Action)
	}
	return nil, f.err()
}

// Act takes a lifecycle action on ticket id as actor.
func (s *Service) Act(ctx context.Context, actor ticket.Actor, id ticket.ID, r ActionRequest) (Ticket, error) {
	var out Ticket
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		t, err := s.getTicket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !ticket.Visible(t.rules(), actor) {
			return ErrNotFound
		}
		a, err := s.action(ctx, tx, t, r)
		if err != nil {
			return err
		}
		if _, err := s.apply(ctx, tx, t, a, actor, s.now()); err != nil {
			return err
		}
		out, err = s.getTicket(ctx, tx, id, false)
		return err
	})
	return out, err
}

// LinkResult is what linking a draft to a ticket changed.
type LinkResult struct {
	Draft  Ticket `json:"draft"`
	Target Ticket `json:"target"`
	// CallsMoved counts the calls whose ticket became the target.
	CallsMoved int `json:"calls_moved"`
}

// Link merges a draft (a call's ticket, typically) into an existing ticket: the draft is kept,
// merged and pointing at the target; the draft's calls now belong to the target; the target
// counts one more contact. Both changes are in the history.
func (s *Service) Link(ctx context.Context, actor ticket.Actor, draftID, intoID ticket.ID) (LinkResult, error) {
	var res LinkResult
	if draftID == intoID {
		return res, &ValidationError{Fields: []FieldError{{Field: "into", Code: "invalid", Message: "a ticket cannot be linked to itself"}}}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Lock in id order, so two links of the same pair in opposite directions cannot deadlock.
		first, second := draftID, intoID
		if second < first {
			first, second = second, first
		}
		a, err := s.getTicket(ctx, tx, first, true)
		if err != nil {
			return err
		}
		b, err := s.getTicket(ctx, tx, second, true)
		if err != nil {
			return err
		}
		draft, target := a, b
		if draft.ID != draftID {
			draft, target = b, a
		}
		if !ticket.Visible(draft.rules(), actor) || !ticket.Visible(target.rules(), actor) {
			return ErrNotFound
		}
		now := s.now()
		if _, err := s.apply(ctx, tx, draft, ticket.Merge{Into: target.rules()}, actor, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE calls SET ticket_id = $2 WHERE ticket_id = $1`, int64(draft.ID), int64(target.ID))
		if err != nil {
			return err
		}
		res.CallsMoved = int(tag.RowsAffected())
		note := fmt.Sprintf("ticket %s merged into this one", draft.Number)
		if res.CallsMoved > 0 {
			note += fmt.Sprintf("; %d call(s) linked", res.CallsMoved)
		}
		if _, err := s.apply(ctx, tx, target, ticket.AddContact{Channel: draft.Channel, Note: note}, actor, now); err != nil {
			return err
		}
		if res.Draft, err = s.getTicket(ctx, tx, draft.ID, false); err != nil {
			return err
		}
		res.Target, err = s.getTicket(ctx, tx, target.ID, false)
		return err
	})
	return res, err
}

// Edit changes what a ticket says (not its state): description, caller, address. Nil fields
// stay as they are.
type Edit struct {
	Description *string  `json:"description"`
	CallerName  *string  `json:"caller_name"`
	CallerPhone *string  `json:"caller_phone"`
	CallerEmail *string  `json:"caller_email"`
	Address     *Address `json:"address"`
}

// EditTicket changes a ticket's details as a first-line actor, with an "edit" history entry
// holding each changed field before and after. Merged tickets are not edited.
func (s *Service) EditTicket(ctx context.Context, actor ticket.Actor, id ticket.ID, e Edit) (Ticket, error) {
	if !actor.Role.FirstLine() {
		return Ticket{}, ErrForbidden
	}
	var f fields
	validateDetails(&f, "", e.Description, e.CallerPhone, e.CallerEmail, e.CallerName, e.Address, nil)
	if err := f.err(); err != nil {
		return Ticket{}, err
	}
	var out Ticket
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		t, err := s.getTicket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if t.Status == ticket.StatusMerged {
			return &ticket.Error{Code: ticket.CodeWrongStatus, Message: fmt.Sprintf("ticket %s is merged into %s; edit that one", t.Number, t.MergedIntoNumber)}
		}
		before, after := map[string]string{}, map[string]string{}
		set := func(field string, old string, v *string) string {
			if v == nil || *v == old {
				return old
			}
			before[field], after[field] = old, *v
			return *v
		}
		desc := set("description", t.Description, e.Description)
		name := set("caller_name", t.CallerName, e.CallerName)
		phone := set("caller_phone", t.CallerPhone, e.CallerPhone)
		email := set("caller_email", t.CallerEmail, e.CallerEmail)
		addr := t.Address
		if e.Address != nil {
			addr = *e.Address
			set("address.text", t.Address.Text, &addr.Text)
			set("address.street", t.Address.Street, &addr.Street)
			set("address.house_number", t.Address.HouseNumber, &addr.HouseNumber)
			oldPos, newPos := formatPos(t.Address), formatPos(addr)
			set("address.position", oldPos, &newPos)
		}
		if len(after) == 0 {
			out = t
			return nil
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE tickets SET description = $2, caller_phone = NULLIF($3, ''), updated_at = $4 WHERE id = $1`,
			int64(id), desc, phone, now); err != nil {
			return err
		}
		if err := saveDetails(ctx, tx, id, name, email, addr, t.Attributes, t.MediaURL); err != nil {
			return err
		}
		if err := insertHistory(ctx, tx, id, "edit", actor, now, "", before, after); err != nil {
			return err
		}
		out, err = s.getTicket(ctx, tx, id, false)
		return err
	})
	return out, err
}

func formatPos(a Address) string {
	if a.Lat == nil || a.Lon == nil {
		return ""
	}
	return strconv.FormatFloat(*a.Lat, 'f', 6, 64) + "," + strconv.FormatFloat(*a.Lon, 'f', 6, 64)
}

// HistoryEntry is one entry of a ticket's history.
type HistoryEntry struct {
	ID     int64             `json:"id"`
	At     time.Time         `json:"at"`
	Action string            `json:"action"`
	Actor  ticket.Actor      `json:"actor"`
	Note   string            `json:"note,omitempty"`
	Before map[string]string `json:"before"`
	After  map[string]string `json:"after"`
}

// History returns a ticket's history, oldest first, if actor may see the ticket.
func (s *Service) History(ctx context.Context, actor ticket.Actor, id ticket.ID) ([]HistoryEntry, error) {
	if _, err := s.Ticket(ctx, actor, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, at, action, coalesce(actor_id, 0), actor_role, coalesce(actor_unit, 0), note, before, after
		FROM ticket_history WHERE ticket_id = $1 ORDER BY id`, int64(id))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		var role string
		err := r.Scan(&h.ID, &h.At, &h.Action, &h.Actor.User, &role, &h.Actor.Unit, &h.Note, &h.Before, &h.After)
		h.Actor.Role, _ = ticket.ParseRole(role)
		return h, err
	})
}

// Filter selects tickets for a list. Zero fields do not filter.
type Filter struct {
	Status      []ticket.Status
	Unit        string
	Category    string
	Overdue     bool
	CallerPhone string
	Owner       ticket.UserID
	Number      ticket.Number
	// Before is the cursor: tickets with a smaller id than this (the previous page's Next).
	Before ticket.ID
	// Limit is the page size, 1–200; zero means 50.
	Limit int
}

// Page is one page of a list, newest first; Next is the cursor of the next page, zero at the end.
type Page struct {
	Items []Ticket  `json:"items"`
	Next  ticket.ID `json:"next,omitempty"`
}

// ListTickets lists the tickets actor may see that match f, newest first. Unit workers see their
// own unit's tickets only, whatever f says.
func (s *Service) ListTickets(ctx context.Context, actor ticket.Actor, f Filter) (Page, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	var fe fields
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		fe.add("limit", "out_of_range", "a page has 1–200 tickets")
	}
	switch actor.Role {
	case ticket.RoleUnitWorker:
		where = append(where, "t.unit_id = "+arg(int64(actor.Unit)))
	case ticket.RoleUnknown:
		return Page{}, ErrForbidden
	}
	if f.Unit != "" {
		id, err := s.unitID(ctx, f.Unit)
		if err != nil {
			fe.add("unit", "unknown", "no unit %q", f.Unit)
		}
		where = append(where, "t.unit_id = "+arg(int64(id)))
	}
	if f.Category != "" {
		c, err := s.Category(ctx, f.Category)
		if err != nil {
			fe.add("category", "unknown", "no category %q", f.Category)
		}
		where = append(where, "t.category_id = "+arg(int64(c.ID)))
	}
	if err := fe.err(); err != nil {
		return Page{}, err
	}
	if len(f.Status) > 0 {
		ss := make([]string, len(f.Status))
		for i, st := range f.Status {
			ss[i] = st.String()
		}
		where = append(where, "t.status = ANY("+arg(ss)+")")
	}
	if f.Overdue {
		where = append(where, "t.status IN ('new', 'in_progress', 'forwarded', 'resolved_by_unit') AND t.due_at IS NOT NULL AND t.due_at <= "+arg(s.now()))
	}
	if f.CallerPhone != "" {
		where = append(where, "t.caller_phone = "+arg(NormalizePhone(f.CallerPhone)))
	}
	if f.Owner != 0 {
		where = append(where, "t.owner_id = "+arg(int64(f.Owner)))
	}
	if !f.Number.IsZero() {
		where = append(where, "t.number = "+arg(f.Number.String()))
	}
	if f.Before != 0 {
		where = append(where, "t.id < "+arg(int64(f.Before)))
	}
	q := ticketSelect
	if len(where) > 0 {
		q += "WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t.id DESC LIMIT " + arg(f.Limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return Page{}, err
	}
	now := s.now()
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r, now) })
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if p.Items == nil {
		p.Items = []Ticket{}
	}
	if len(items) == f.Limit {
		p.Next = items[len(items)-1].ID
	}
	return p, nil
}

// UseArticle records that actor used an article (its current version) to handle a ticket, and
// counts the use for the suggestions. Recording it again is a no-op.
func (s *Service) UseArticle(ctx context.Context, actor ticket.Actor, id ticket.ID, articleID int64) error {
	if !actor.Role.FirstLine() {
		return ErrForbidden
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		t, err := s.getTicket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var version int
		var title string
		err = tx.QueryRow(ctx, `SELECT version, title FROM articles WHERE id = $1`, articleID).Scan(&version, &title)
		if errors.Is(err, pgx.ErrNoRows) {
			return &ValidationError{Fields: []FieldError{{Field: "article_id", Code: "unknown", Message: fmt.Sprintf("no article %d", articleID)}}}
		}
		if err != nil {
			return err
		}
		now := s.now()
		tag, err := tx.Exec(ctx, `INSERT INTO ticket_articles (ticket_id, article_id, article_version, used_by, used_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, int64(t.ID), articleID, version, nullID(actor.User), now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE articles SET use_count = use_count + 1 WHERE id = $1`, articleID); err != nil {
			return err
		}
		return insertHistory(ctx, tx, t.ID, "article_used", actor, now, title,
			nil, map[string]string{"article": strconv.FormatInt(articleID, 10), "article_version": strconv.Itoa(version)})
	})
}

// TicketArticles lists the articles used on a ticket.
func (s *Service) TicketArticles(ctx context.Context, actor ticket.Actor, id ticket.ID) ([]ArticleSummary, error) {
	if _, err := s.Ticket(ctx, actor, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+summaryColumns+` FROM ticket_articles ta JOIN articles a ON a.id = ta.article_id
		WHERE ta.ticket_id = $1 ORDER BY ta.used_at`, int64(id))
	if err != nil {
		return nil, err
	}
	return collectSummaries(rows, s.today())
}
