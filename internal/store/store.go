// Package store is Kontakt's Postgres storage: embedded, numbered migrations applied under an
// advisory lock, and the queries for tickets, calls and call events.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is what the store needs of a connection: a pool, a connection or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Store runs Kontakt's queries on a DB.
type Store struct {
	db  DB
	loc *time.Location
}

// New returns a store over db; loc is the contact center's zone (ticket numbers count per year there).
func New(db DB, loc *time.Location) *Store {
	if loc == nil {
		loc = time.UTC
	}
	return &Store{db: db, loc: loc}
}

// Open connects a pool to url, bounded to maxConns connections. It does not wait for the server:
// the pool connects lazily, so a process can start while Postgres is away.
func Open(ctx context.Context, url string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: database url: %w", err)
	}
	cfg.MaxConns = int32(maxConns)
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	return pgxpool.NewWithConfig(ctx, cfg)
}

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %q is not named NNNN_name.sql", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %q and %q share version %d", other, name, v)
		}
		seen[v] = name
		b, err := fs.ReadFile(migrationFiles, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// migrationLock is the advisory lock key that serialises migrations between processes.
const migrationLock = 0x6b6f6e74616b74 // "kontakt"

// Migrate applies the migrations not yet applied, each in its own transaction, under a session
// advisory lock so that several processes starting at once apply each migration exactly once.
// It returns the versions it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return nil, fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock)) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		applied[v] = true
	}
	rows.Close()
	var done []int
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}

// TicketID identifies a ticket row.
type TicketID int64

// CallID identifies a call (a UUID chosen by the switchboard when the call arrives).
type CallID string

// Ticket is a ticket row (the fields this version of the store reads and writes).
type Ticket struct {
	ID          TicketID
	Number      string
	Kind        string
	Status      string
	Channel     string
	Category    string
	CallerPhone string
	Description string
	Unit        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewCall describes a call that has just arrived.
type NewCall struct {
	ID        CallID
	ChannelID string
	Caller    string
	Called    string
	CallerRef string // an opaque reference set by the caller side (the simulated resident), may be empty
	StartedAt time.Time
	// Description is the new ticket's initial text.
	Description string
	// Direction is "inbound" (the default) or "outbound" (Kontakt called the resident: a
	// callback).
	Direction string
	// TicketID, when set, is the ticket the call belongs to from the start (a callback's): no
	// draft ticket is created.
	TicketID TicketID
}

// CreateCallWithTicket creates the draft ticket (channel phone, kind unknown) and the call row
// linked to it, in one transaction (with NewCall.TicketID, only the call row, on that ticket). It is idempotent on the call's id: a second attempt (after a
// lost reply) returns the ticket the first created.
func (s *Store) CreateCallWithTicket(ctx context.Context, c NewCall) (Ticket, error) {
	var t Ticket
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var existing TicketID
		err := tx.QueryRow(ctx, `SELECT ticket_id FROM calls WHERE id = $1`, string(c.ID)).Scan(&existing)
		if err == nil {
			t, err = getTicket(ctx, tx, existing)
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if c.TicketID != 0 {
			t, err = getTicket(ctx, tx, c.TicketID)
		} else {
			t, err = insertTicket(ctx, tx, s.loc, Ticket{Channel: "phone", CallerPhone: c.Caller, Description: c.Description, CreatedAt: c.StartedAt})
		}
		if err != nil {
			return err
		}
		dir := c.Direction
		if dir == "" {
			dir = "inbound"
		}
		_, err = tx.Exec(ctx, `INSERT INTO calls (id, ticket_id, channel_id, caller, called, caller_ref, started_at, direction)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8)`,
			string(c.ID), int64(t.ID), c.ChannelID, c.Caller, c.Called, c.CallerRef, c.StartedAt, dir)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("store: create call %s: %w", c.ID, err)
	}
	return t, nil
}

// CreateTicket creates a ticket from t's channel, caller, description and creation time.
func (s *Store) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	var out Ticket
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		out, err = insertTicket(ctx, tx, s.loc, t)
		return err
	})
	return out, err
}

func insertTicket(ctx context.Context, tx pgx.Tx, loc *time.Location, t Ticket) (Ticket, error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	year := t.CreatedAt.In(loc).Year()
	var n int
	if err := tx.QueryRow(ctx, `INSERT INTO ticket_counters (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last`, year).Scan(&n); err != nil {
		return Ticket{}, err
	}
	number := FormatTicketNumber(year, n)
	var id TicketID
	err := tx.QueryRow(ctx, `INSERT INTO tickets (number, channel, caller_phone, description, created_at, updated_at)
		VALUES ($1, $2, NULLIF($3, ''), $4, $5, $5) RETURNING id`,
		number, t.Channel, t.CallerPhone, t.Description, t.CreatedAt).Scan(&id)
	if err != nil {
		return Ticket{}, err
	}
	return getTicket(ctx, tx, id)
}

// FormatTicketNumber writes a ticket's human number: the year and a six-digit (or longer) count.
func FormatTicketNumber(year, n int) string { return fmt.Sprintf("%04d/%06d", year, n) }

const ticketColumns = `id, number, kind, status, channel, coalesce(category, ''), coalesce(caller_phone, ''),
	description, coalesce(unit, ''), created_at, updated_at`

func scanTicket(row pgx.Row) (Ticket, error) {
	var t Ticket
	err := row.Scan(&t.ID, &t.Number, &t.Kind, &t.Status, &t.Channel, &t.Category, &t.CallerPhone,
		&t.Description, &t.Unit, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

func getTicket(ctx context.Context, db DB, id TicketID) (Ticket, error) {
	return scanTicket(db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, int64(id)))
}

// Ticket returns a ticket by id.
func (s *Store) Ticket(ctx context.Context, id TicketID) (Ticket, error) {
	return getTicket(ctx, s.db, id)
}

// TicketByNumber returns a ticket by its human number.
func (s *Store) TicketByNumber(ctx context.Context, number string) (Ticket, error) {
	return scanTicket(s.db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE number = $1`, number))
}

// CallEvent is one event in a call's history; Seq orders a call's events from 1.
type CallEvent struct {
	Seq  int
	At   time.Time
	Type string
	Data map[string]any
}

// AppendCallEvents stores events of a call. Re-appending an event with a seq already stored is a
// no-op, so a retried write does not duplicate.
func (s *Store) AppendCallEvents(ctx context.Context, id CallID, evs []CallEvent) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, e := range evs {
		data := e.Data
		if data == nil {
			data = map[string]any{}
		}
		b.Queue(`INSERT INTO call_events (call_id, seq, at, type, data) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (call_id, seq) DO NOTHING`, string(id), e.Seq, e.At, e.Type, data)
	}
	return sendBatch(ctx, s.db, b)
}

func sendBatch(ctx context.Context, db DB, b *pgx.Batch) error {
	type batcher interface {
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	}
	bdb, ok := db.(batcher)
	if !ok {
		return errors.New("store: connection cannot send batches")
	}
	return bdb.SendBatch(ctx, b).Close()
}

// CallEvents returns a call's events in order.
func (s *Store) CallEvents(ctx context.Context, id CallID) ([]CallEvent, error) {
	rows, err := s.db.Query(ctx, `SELECT seq, at, type, data FROM call_events WHERE call_id = $1 ORDER BY seq`, string(id))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CallEvent, error) {
		var e CallEvent
		err := r.Scan(&e.Seq, &e.At, &e.Type, &e.Data)
		return e, err
	})
}

// CallAnswered records when Kontakt answered the call.
func (s *Store) CallAnswered(ctx context.Context, id CallID, at time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE calls SET answered_at = $2 WHERE id = $1 AND answered_at IS NULL`, string(id), at)
	return err
}

// EndCall closes a call with its outcome; ending an ended call keeps the first ending.
func (s *Store) EndCall(ctx context.Context, id CallID, at time.Time, outcome string, cause int) error {
	tag, err := s.db.Exec(ctx, `UPDATE calls SET ended_at = $2, outcome = $3, hangup_cause = $4
		WHERE id = $1 AND ended_at IS NULL`, string(id), at, outcome, cause)
	if err != nil {
		return fmt.Errorf("store: end call %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.db.QueryRow(ctx, `SELECT true FROM calls WHERE id = $1`, string(id)).Scan(&exists); err != nil {
			return fmt.Errorf("store: end call %s: %w", id, err)
		}
	}
	return nil
}

// Call is a call row.
type Call struct {
	ID          CallID
	TicketID    TicketID
	ChannelID   string
	Caller      string
	Called      string
	CallerRef   string
	StartedAt   time.Time
	AnsweredAt  *time.Time
	EndedAt     *time.Time
	Outcome     string
	HangupCause int
	Direction   string // inbound, or outbound (a callback)
}

const callColumns = `id, coalesce(ticket_id, 0), channel_id, caller, called, coalesce(caller_ref, ''), started_at,
	answered_at, ended_at, coalesce(outcome, ''), coalesce(hangup_cause, 0), direction`

func scanCall(row pgx.Row) (Call, error) {
	var c Call
	var id string
	err := row.Scan(&id, &c.TicketID, &c.ChannelID, &c.Caller, &c.Called, &c.CallerRef, &c.StartedAt,
		&c.AnsweredAt, &c.EndedAt, &c.Outcome, &c.HangupCause, &c.Direction)
	c.ID = CallID(id)
	return c, err
}

// Call returns a call by id.
func (s *Store) Call(ctx context.Context, id CallID) (Call, error) {
	return scanCall(s.db.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, string(id)))
}

// CallByRef returns the call carrying a caller-side reference.
func (s *Store) CallByRef(ctx context.Context, ref string) (Call, error) {
	return scanCall(s.db.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE caller_ref = $1`, ref))
}

// OpenCalls returns the calls that have not ended (to reconcile with Asterisk after a restart).
func (s *Store) OpenCalls(ctx context.Context) ([]Call, error) {
	rows, err := s.db.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE ended_at IS NULL ORDER BY started_at`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Call, error) { return scanCall(r) })
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// IsNotFound reports whether err means no row matched.
func IsNotFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// CallByChannel returns the call of an Asterisk channel.
func (s *Store) CallByChannel(ctx context.Context, channelID string) (Call, error) {
	return scanCall(s.db.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE channel_id = $1`, channelID))
}

// DB returns the connection the store uses (tests and reports run their own queries on it).
func (s *Store) DB() DB { return s.db }

// SetCallMenu records the menu version and language a call runs with.
func (s *Store) SetCallMenu(ctx context.Context, id CallID, menuID string, version int, lang string) error {
	_, err := s.db.Exec(ctx, `UPDATE calls SET menu_id = $2, menu_version = $3, language = NULLIF($4, '') WHERE id = $1`,
		string(id), menuID, version, lang)
	return err
}
