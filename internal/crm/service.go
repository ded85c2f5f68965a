// Package crm is the CRM side of Kontakt: tickets beyond the phone draft (every channel, the
// lifecycle of internal/ticket with its history, linking a call to an existing ticket,
// suggestions while a consultant types, due dates, escalation), the second-line units and the
// categories, the knowledge base (the Łódź article template, versions, Polish search), the
// screen-pop query, and the REST API with its OpenAPI document. Open311 GeoReport v2 lives in
// crm/open311 on top of the same Service.
//
// Every change of a ticket's state goes through ticket.Apply; the Change it returns is saved as
// the ticket's history in the same transaction.
package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"kontakt/internal/auth"
	"kontakt/internal/ticket"
)

// DB is what the CRM needs of a connection: a pool or a transaction (tests run each in one).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Options configures a Service. The zero value works: Europe/Warsaw is the caller's business
// (Location nil means UTC for numbering), the clock is time.Now.
type Options struct {
	// Location is the contact center's zone: ticket numbers count per year there, and an
	// article is valid on a date there.
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Escalation is the overdue policy; zero means ticket.DefaultEscalation().
	Escalation ticket.EscalationPolicy
	// Radius is how far, in metres, an open ticket of the same category counts as nearby in the
	// suggestions; zero means 150 m.
	Radius float64
	Log    *slog.Logger
}

// Service runs the CRM on a database.
type Service struct {
	db     DB
	loc    *time.Location
	now    func() time.Time
	policy ticket.EscalationPolicy
	radius float64
	log    *slog.Logger

	// unitIDs caches unit codes to ids: codes never change once created (UpdateUnit keeps them).
	unitIDs sync.Map // string → ticket.UnitID
}

// New returns a service over db.
func New(db DB, o Options) *Service {
	s := &Service{db: db, loc: o.Location, now: o.Now, policy: o.Escalation, radius: o.Radius, log: o.Log}
	if s.loc == nil {
		s.loc = time.UTC
	}
	clock := o.Now
	if clock == nil {
		clock = time.Now
	}
	s.now = func() time.Time { return clock().In(s.loc) }
	if s.policy == (ticket.EscalationPolicy{}) {
		s.policy = ticket.DefaultEscalation()
	}
	if s.radius <= 0 {
		s.radius = 150
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// ErrNotFound is returned for what does not exist or what the actor may not see: a unit worker
// asking for another unit's ticket is told it does not exist.
var ErrNotFound = errors.New("not found")

// ErrForbidden is returned when the actor's role may not do this at all (a consultant editing
// the knowledge base, a unit worker linking calls). Lifecycle refusals are *ticket.Error.
var ErrForbidden = errors.New("forbidden")

// ErrConflict is returned when what was edited changed meanwhile (an article's version), or when
// a unique code is taken.
var ErrConflict = errors.New("conflict")

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of a request at once.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 {
		return "invalid request"
	}
	msg := "invalid request: " + e.Fields[0].Field + ": " + e.Fields[0].Message
	if n := len(e.Fields) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// fields collects field errors.
type fields []FieldError

func (f *fields) add(field, code, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// Actor turns the signed-in principal into the lifecycle's actor. A user with several roles acts
// with the one that may do the most on tickets: supervisor, consultant, broker, unit worker,
// administrator. A unit worker's unit is the principal's Unit, a unit's code (or its id).
func (s *Service) Actor(ctx context.Context, p auth.Principal) (ticket.Actor, error) {
	a := ticket.Actor{User: ticket.UserID(p.UserID)}
	switch {
	case p.Has(auth.RoleSupervisor):
		a.Role = ticket.RoleSupervisor
	case p.Has(auth.RoleConsultant):
		a.Role = ticket.RoleConsultant
	case p.Has(auth.RoleBroker):
		a.Role = ticket.RoleBroker
	case p.Has(auth.RoleUnitWorker):
		a.Role = ticket.RoleUnitWorker
	case p.Has(auth.RoleAdministrator):
		a.Role = ticket.RoleAdministrator
	default:
		return a, fmt.Errorf("%w: the user has no role", ErrForbidden)
	}
	if a.Role == ticket.RoleUnitWorker {
		id, err := s.unitID(ctx, p.Unit)
		if err != nil {
			return a, fmt.Errorf("%w: unit worker of unknown unit %q", ErrForbidden, p.Unit)
		}
		a.Unit = id
	}
	return a, nil
}

// unitID resolves a unit's code, or its id written in decimal, to its id.
func (s *Service) unitID(ctx context.Context, code string) (ticket.UnitID, error) {
	if code == "" {
		return 0, ErrNotFound
	}
	if v, ok := s.unitIDs.Load(code); ok {
		return v.(ticket.UnitID), nil
	}
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM units WHERE code = $1`, code).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		if n, perr := strconv.ParseInt(code, 10, 64); perr == nil {
			err = s.db.QueryRow(ctx, `SELECT id FROM units WHERE id = $1`, n).Scan(&id)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	s.unitIDs.Store(code, ticket.UnitID(id))
	return ticket.UnitID(id), nil
}

// inTx runs fn in a transaction (a savepoint when s.db is a transaction already).
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.db, fn)
}

// today is the contact center's date at now, as midnight UTC of that date (how dates compare).
func (s *Service) today() string {
	return s.now().In(s.loc).Format(time.DateOnly)
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
