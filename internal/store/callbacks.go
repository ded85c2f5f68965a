package store

import (
	"context"
	"fmt"
	"time"
)

// Callback is a callback holding a resident's place in a queue.
type Callback struct {
	CallID    CallID
	TicketID  TicketID
	Number    string
	Queue     string
	Language  string
	Priority  int
	ArrivedAt time.Time // the place it keeps
	Attempts  int
	Status    string // pending, answered, failed, cancelled
}

// SaveCallback records a booked callback (pending). Saving the same call again changes nothing.
func (s *Store) SaveCallback(ctx context.Context, c Callback) error {
	_, err := s.db.Exec(ctx, `INSERT INTO callbacks (call_id, ticket_id, number, queue, language, priority, arrived_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id) DO NOTHING`,
		string(c.CallID), int64(c.TicketID), c.Number, c.Queue, c.Language, c.Priority, c.ArrivedAt)
	if err != nil {
		return fmt.Errorf("store: save callback %s: %w", c.CallID, err)
	}
	return nil
}

// CallbackAttempted records that attempt n of a pending callback is being made.
func (s *Store) CallbackAttempted(ctx context.Context, id CallID, n int) error {
	_, err := s.db.Exec(ctx, `UPDATE callbacks SET attempts = greatest(attempts, $2), updated_at = now()
		WHERE call_id = $1`, string(id), n)
	if err != nil {
		return fmt.Errorf("store: callback %s attempt: %w", id, err)
	}
	return nil
}

// EndCallback closes a pending callback with status answered, failed or cancelled.
func (s *Store) EndCallback(ctx context.Context, id CallID, status string) error {
	_, err := s.db.Exec(ctx, `UPDATE callbacks SET status = $2, updated_at = now() WHERE call_id = $1 AND status = 'pending'`,
		string(id), status)
	if err != nil {
		return fmt.Errorf("store: end callback %s: %w", id, err)
	}
	return nil
}

// PendingCallbacks returns the callbacks still holding a place, oldest place first.
func (s *Store) PendingCallbacks(ctx context.Context) ([]Callback, error) {
	rows, err := s.db.Query(ctx, `SELECT call_id, ticket_id, number, queue, language, priority, arrived_at, attempts, status
		FROM callbacks WHERE status = 'pending' AND number <> '' ORDER BY arrived_at, call_id`)
	if err != nil {
		return nil, fmt.Errorf("store: pending callbacks: %w", err)
	}
	defer rows.Close()
	var out []Callback
	for rows.Next() {
		var c Callback
		var id string
		if err := rows.Scan(&id, &c.TicketID, &c.Number, &c.Queue, &c.Language, &c.Priority, &c.ArrivedAt, &c.Attempts, &c.Status); err != nil {
			return nil, err
		}
		c.CallID = CallID(id)
		out = append(out, c)
	}
	return out, rows.Err()
}
