package switchboard

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"kontakt/internal/store"
)

// Refused is a write the store refused for good (its rules, not its availability).
type Refused struct{ Err error }

func (r Refused) Error() string { return "refused: " + r.Err.Error() }
func (r Refused) Unwrap() error { return r.Err }

// permanent reports whether the write was refused for its data — Postgres's SQLSTATE classes 22
// (data exception) and 23 (integrity constraint violation), or a Refused from the store — as
// opposed to the database being unreachable.
func permanent(err error) bool {
	var pe *pgconn.PgError
	var r Refused
	return errors.As(err, &r) || (errors.As(err, &pe) && (pe.Code[:2] == "22" || pe.Code[:2] == "23"))
}

// Store is what the switchboard needs of the database.
type Store interface {
	CreateCallWithTicket(ctx context.Context, c store.NewCall) (store.Ticket, error)
	AppendCallEvents(ctx context.Context, id store.CallID, evs []store.CallEvent) error
	CallAnswered(ctx context.Context, id store.CallID, at time.Time) error
	EndCall(ctx context.Context, id store.CallID, at time.Time, outcome string, cause int) error
	OpenCalls(ctx context.Context) ([]store.Call, error)
	CallByChannel(ctx context.Context, channelID string) (store.Call, error)
	SetCallMenu(ctx context.Context, id store.CallID, menuID string, version int, lang string) error
	LinkCallToTicket(ctx context.Context, id store.CallID, t store.TicketID) error
}

// journal writes one call's rows in order, in the background: the call never waits for the
// database, and while the database is unavailable the writes are retried until they land, so
// nothing is lost. Each write is idempotent, so a retry after a lost reply does no harm.
type journal struct {
	id      store.CallID
	st      Store
	log     *slog.Logger
	m       *metrics
	mu      sync.Mutex
	ops     []func(context.Context) error
	events  []store.CallEvent
	closed  bool
	signal  chan struct{}
	done    chan struct{}
	ticket  store.Ticket
	created chan struct{} // closed once the ticket and call rows exist
}

func newJournal(id store.CallID, st Store, log *slog.Logger, m *metrics) *journal {
	return &journal{id: id, st: st, log: log, m: m, signal: make(chan struct{}, 1), done: make(chan struct{}),
		created: make(chan struct{})}
}

func (j *journal) push(op func(context.Context) error) {
	j.mu.Lock()
	j.ops = append(j.ops, op)
	j.mu.Unlock()
	j.m.storePending.Inc()
	select {
	case j.signal <- struct{}{}:
	default:
	}
}

// create queues the ticket and call rows.
func (j *journal) create(nc store.NewCall) {
	j.push(func(ctx context.Context) error {
		t, err := j.st.CreateCallWithTicket(ctx, nc)
		if err == nil {
			j.ticket = t
			close(j.created)
		}
		return err
	})
}

// event queues a call event; consecutive events are written in one batch.
func (j *journal) event(e store.CallEvent) {
	j.mu.Lock()
	j.events = append(j.events, e)
	first := len(j.events) == 1
	j.mu.Unlock()
	if first {
		j.push(j.flushEvents)
	}
}

func (j *journal) flushEvents(ctx context.Context) error {
	j.mu.Lock()
	evs := append([]store.CallEvent(nil), j.events...)
	j.mu.Unlock()
	if len(evs) == 0 {
		return nil
	}
	if err := j.st.AppendCallEvents(ctx, j.id, evs); err != nil {
		return err
	}
	j.mu.Lock()
	j.events = j.events[len(evs):]
	more := len(j.events) > 0
	j.mu.Unlock()
	if more {
		return j.flushEvents(ctx)
	}
	return nil
}

// close marks the end of the call's writes: run ends after the last one lands.
func (j *journal) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	select {
	case j.signal <- struct{}{}:
	default:
	}
}

// run performs the writes in order until close and all writes are done, or ctx ends.
func (j *journal) run(ctx context.Context) {
	defer close(j.done)
	b := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for {
		j.mu.Lock()
		var op func(context.Context) error
		if len(j.ops) > 0 {
			op = j.ops[0]
		}
		closed := j.closed
		j.mu.Unlock()
		if op == nil {
			if closed {
				return
			}
			select {
			case <-j.signal:
				continue
			case <-ctx.Done():
				return
			}
		}
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := op(octx)
		cancel()
		if err != nil && permanent(err) {
			// Postgres refused the data itself: retrying cannot help and would hold up the
			// call's later writes (its ending among them). Say so loudly and go on.
			j.m.storeRefused.Inc()
			j.log.Error("database refused a call write; skipped", "call_id", j.id, "err", err)
			err = nil
		}
		if err != nil {
			j.m.storeRetries.Inc()
			d := b.next()
			j.log.Warn("database write failed; retrying", "call_id", j.id, "retry_in", d, "err", err)
			select {
			case <-time.After(d):
				continue
			case <-ctx.Done():
				return
			}
		}
		b.reset()
		j.mu.Lock()
		j.ops = j.ops[1:]
		j.mu.Unlock()
		j.m.storePending.Dec()
	}
}
