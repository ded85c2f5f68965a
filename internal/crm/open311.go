package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/ticket"
)

// Open311Client is a client of the Open311 endpoint (the web portal, the mobile app): its
// requests are registered with its channel.
type Open311Client struct {
	ID      int64          `json:"id"`
	Name    string         `json:"name"`
	Channel ticket.Channel `json:"channel"`
	Active  bool           `json:"active"`
}

func keyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func checkOpen311Channel(ch ticket.Channel) error {
	if ch != ticket.ChannelWebForm && ch != ticket.ChannelMobileApp {
		return &ValidationError{Fields: []FieldError{{Field: "channel", Code: "invalid", Message: "web_form or mobile_app"}}}
	}
	return nil
}

// CreateOpen311Client registers a client (administrators) and returns its API key, shown once:
// only its SHA-256 is stored.
func (s *Service) CreateOpen311Client(ctx context.Context, actor ticket.Actor, name string, ch ticket.Channel) (Open311Client, string, error) {
	if actor.Role != ticket.RoleAdministrator {
		return Open311Client{}, "", ErrForbidden
	}
	if err := checkOpen311Channel(ch); err != nil {
		return Open311Client{}, "", err
	}
	key := randomToken(24)
	c := Open311Client{Name: strings.TrimSpace(name), Channel: ch, Active: true}
	err := s.db.QueryRow(ctx, `INSERT INTO open311_clients (name, key_sha256, channel) VALUES ($1, $2, $3) RETURNING id`,
		c.Name, keyHash(key), ch.String()).Scan(&c.ID)
	if isUniqueViolation(err) {
		return c, "", fmt.Errorf("%w: a client named %q exists", ErrConflict, c.Name)
	}
	return c, key, err
}

// EnsureOpen311Client registers a client with a chosen key unless one with that name exists
// (the demo's client).
func (s *Service) EnsureOpen311Client(ctx context.Context, name string, ch ticket.Channel, key string) (Open311Client, error) {
	if err := checkOpen311Channel(ch); err != nil {
		return Open311Client{}, err
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO open311_clients (name, key_sha256, channel) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, name, keyHash(key), ch.String()); err != nil {
		return Open311Client{}, err
	}
	return s.Open311ClientByKey(ctx, key)
}

// Open311ClientByKey returns the active client an API key belongs to.
func (s *Service) Open311ClientByKey(ctx context.Context, key string) (Open311Client, error) {
	var c Open311Client
	var ch string
	if key == "" {
		return c, ErrNotFound
	}
	err := s.db.QueryRow(ctx, `SELECT id, name, channel, active FROM open311_clients WHERE key_sha256 = $1 AND active`,
		keyHash(key)).Scan(&c.ID, &c.Name, &ch, &c.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	c.Channel, _ = ticket.ParseChannel(ch)
	return c, err
}

// CreateOpen311Request registers a request filed by an Open311 client, as the system, with the
// client's channel, and a token the client can ask about it with.
func (s *Service) CreateOpen311Request(ctx context.Context, c Open311Client, nt NewTicket) (Ticket, string, error) {
	nt.Channel = c.Channel
	token := randomToken(18)
	t, err := s.createTicket(ctx, ticket.Actor{Role: ticket.RoleSystem}, nt, func(tx pgx.Tx, t Ticket) error {
		_, err := tx.Exec(ctx, `INSERT INTO open311_tokens (token, ticket_id, client_id) VALUES ($1, $2, $3)`, token, int64(t.ID), c.ID)
		return err
	})
	return t, token, err
}

// TicketByToken returns the ticket an Open311 token stands for.
func (s *Service) TicketByToken(ctx context.Context, token string) (Ticket, error) {
	t, err := scanTicket(s.db.QueryRow(ctx, ticketSelect+`JOIN open311_tokens k ON k.ticket_id = t.id WHERE k.token = $1`, token), s.now())
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// Open311Filter selects requests for GET requests.
type Open311Filter struct {
	Numbers  []ticket.Number
	Services []string
	Start    time.Time
	End      time.Time
	// Status is "open", "closed" or "" for both.
	Status string
	Limit  int
}

// Open311Requests lists the requests Open311 shows: tickets classified into a category (so
// unclassified phone drafts are not requests), interventions or filed through Open311, newest
// first; lists leave merged drafts out. With Numbers, the other filters are ignored, as the
// specification says.
func (s *Service) Open311Requests(ctx context.Context, f Open311Filter) ([]Ticket, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	// Interventions, and whatever residents filed themselves: an information request asked by
	// phone or e-mail is the resident's private matter.
	where = append(where, "t.category_id IS NOT NULL", "(t.kind = 'intervention' OR t.channel IN ('web_form', 'mobile_app'))")
	if len(f.Numbers) > 0 {
		ns := make([]string, len(f.Numbers))
		for i, n := range f.Numbers {
			ns[i] = n.String()
		}
		where = append(where, "t.number = ANY("+arg(ns)+")")
	} else {
		where = append(where, "t.status <> 'merged'")
		if len(f.Services) > 0 {
			where = append(where, "c.code = ANY("+arg(f.Services)+")")
		}
		if !f.Start.IsZero() {
			where = append(where, "t.created_at >= "+arg(f.Start))
		}
		if !f.End.IsZero() {
			where = append(where, "t.created_at <= "+arg(f.End))
		}
		switch f.Status {
		case "open":
			where = append(where, "t.status IN ('new', 'in_progress', 'forwarded', 'resolved_by_unit')")
		case "closed":
			where = append(where, "t.status IN ('closed', 'abandoned_call')")
		}
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	rows, err := s.db.Query(ctx, ticketSelect+"WHERE "+strings.Join(where, " AND ")+" ORDER BY t.id DESC LIMIT "+arg(f.Limit), args...)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r, now) })
}

// Now is the service's clock (the Open311 handler dates its default window with it).
func (s *Service) Now() time.Time { return s.now() }
