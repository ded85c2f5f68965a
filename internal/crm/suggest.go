package crm

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/ticket"
)

// SuggestQuery is what a consultant has typed so far on the ticket form.
type SuggestQuery struct {
	Category string
	Street   string
	Lat, Lon *float64
	Phone    string
	// Exclude is the ticket being written (a call's draft), left out of the suggestions.
	Exclude ticket.ID
}

// Nearby is an open ticket of the same category close to the address being typed.
type Nearby struct {
	Ticket Ticket `json:"ticket"`
	// Reason is same_street or within_radius.
	Reason string `json:"reason"`
	// Distance in metres, when both have coordinates.
	Distance *float64 `json:"distance_m,omitempty"`
}

// Suggestions are the tickets a new one may duplicate.
type Suggestions struct {
	Nearby     []Nearby `json:"nearby"`
	SameCaller []Ticket `json:"same_caller"`
}

var openStatuses = []string{"new", "in_progress", "forwarded", "resolved_by_unit"}

// Suggest finds open tickets in the same category on the same street or within the radius, and
// the recent tickets of the same phone number, among those actor may see.
func (s *Service) Suggest(ctx context.Context, actor ticket.Actor, q SuggestQuery) (Suggestions, error) {
	out := Suggestions{Nearby: []Nearby{}, SameCaller: []Ticket{}}
	var f fields
	var cat Category
	if q.Category != "" {
		c, err := s.Category(ctx, q.Category)
		if errors.Is(err, ErrNotFound) {
			f.add("category", "unknown", "no category %q", q.Category)
		} else if err != nil {
			return out, err
		}
		cat = c
	}
	if (q.Lat == nil) != (q.Lon == nil) {
		f.add("lat", "incomplete", "give both lat and lon, or neither")
	}
	if q.Lat != nil && q.Lon != nil && (math.Abs(*q.Lat) > 90 || math.Abs(*q.Lon) > 180) {
		f.add("lat", "out_of_range", "coordinates out of range")
	}
	if err := f.err(); err != nil {
		return out, err
	}
	now := s.now()
	visible := func(t Ticket) bool { return ticket.Visible(t.rules(), actor) }
	seen := map[ticket.ID]int{}
	if cat.ID != 0 && q.Lat != nil && q.Lon != nil {
		dLat := s.radius / 111_320
		dLon := s.radius / (111_320 * math.Max(math.Cos(*q.Lat*math.Pi/180), 0.01))
		rows, err := s.db.Query(ctx, ticketSelect+`WHERE t.category_id = $1 AND t.status = ANY($2) AND t.lat IS NOT NULL
			AND t.lat BETWEEN $3 AND $4 AND t.lon BETWEEN $5 AND $6 AND t.id <> $7 ORDER BY t.id DESC LIMIT 100`,
			int64(cat.ID), openStatuses, *q.Lat-dLat, *q.Lat+dLat, *q.Lon-dLon, *q.Lon+dLon, int64(q.Exclude))
		if err != nil {
			return out, err
		}
		ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r, now) })
		if err != nil {
			return out, err
		}
		for _, t := range ts {
			d := distance(*q.Lat, *q.Lon, *t.Address.Lat, *t.Address.Lon)
			if d <= s.radius && visible(t) {
				seen[t.ID] = len(out.Nearby)
				out.Nearby = append(out.Nearby, Nearby{Ticket: t, Reason: "within_radius", Distance: &d})
			}
		}
		sort.SliceStable(out.Nearby, func(i, j int) bool { return *out.Nearby[i].Distance < *out.Nearby[j].Distance })
		for i, n := range out.Nearby {
			seen[n.Ticket.ID] = i
		}
	}
	if key := StreetKey(q.Street); cat.ID != 0 && key != "" {
		rows, err := s.db.Query(ctx, ticketSelect+`WHERE t.category_id = $1 AND t.street_key = $2 AND t.status = ANY($3)
			AND t.id <> $4 ORDER BY t.id DESC LIMIT 20`, int64(cat.ID), key, openStatuses, int64(q.Exclude))
		if err != nil {
			return out, err
		}
		ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r, now) })
		if err != nil {
			return out, err
		}
		for _, t := range ts {
			if i, dup := seen[t.ID]; dup {
				out.Nearby[i].Reason = "same_street"
				continue
			}
			if visible(t) {
				out.Nearby = append(out.Nearby, Nearby{Ticket: t, Reason: "same_street"})
			}
		}
	}
	if len(out.Nearby) > 20 {
		out.Nearby = out.Nearby[:20]
	}
	if phone := NormalizePhone(q.Phone); phone != "" {
		rows, err := s.db.Query(ctx, ticketSelect+`WHERE t.caller_phone = $1 AND t.id <> $2 AND t.status <> 'merged'
			ORDER BY t.created_at DESC LIMIT 10`, phone, int64(q.Exclude))
		if err != nil {
			return out, err
		}
		ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r, now) })
		if err != nil {
			return out, err
		}
		for _, t := range ts {
			if visible(t) {
				out.SameCaller = append(out.SameCaller, t)
			}
		}
	}
	return out, nil
}

// distance is the great-circle distance in metres.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6_371_000
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// ScreenPop is what the agent desktop shows when a call is offered: the call's ticket, the
// caller's recent tickets, and articles to answer from.
type ScreenPop struct {
	// Ticket is nil while the call's ticket is not written yet (the switchboard writes it in the
	// background when Postgres was away).
	Ticket   *Ticket          `json:"ticket"`
	Recent   []Ticket         `json:"recent"`
	Articles []ArticleSummary `json:"articles"`
}

// Number of recent tickets and suggested articles in a screen-pop.
const (
	screenPopRecent   = 5
	screenPopArticles = 5
)

// ScreenPop reads, in one round trip (three statements in one batch), the ticket, the five most
// recent other tickets of the caller (callerPhone, or the ticket's own caller when empty), and
// five articles valid today: those of the ticket's category or of the caller's recent tickets'
// categories first, then the most used ones.
func (s *Service) ScreenPop(ctx context.Context, ticketID ticket.ID, callerPhone string) (ScreenPop, error) {
	out := ScreenPop{Recent: []Ticket{}, Articles: []ArticleSummary{}}
	phone := NormalizePhone(callerPhone)
	today := s.today()
	b := &pgx.Batch{}
	b.Queue(ticketSelect+`WHERE t.id = $1`, int64(ticketID))
	const caller = `coalesce(nullif($2::text, ''), (SELECT caller_phone FROM tickets WHERE id = $1))`
	b.Queue(ticketSelect+`WHERE t.caller_phone = `+caller+` AND t.id <> $1 AND t.status <> 'merged'
		ORDER BY t.created_at DESC LIMIT $3`, int64(ticketID), phone, screenPopRecent)
	b.Queue(`WITH cats AS (
			SELECT category_id FROM tickets WHERE id = $1 AND category_id IS NOT NULL
			UNION
			SELECT category_id FROM (SELECT category_id FROM tickets WHERE caller_phone = `+caller+`
				AND category_id IS NOT NULL ORDER BY created_at DESC LIMIT 5) r
		)
		SELECT * FROM (
			(SELECT `+summaryColumns+`, 0 AS prio, a.use_count FROM articles a
				WHERE a.id IN (SELECT article_id FROM article_categories WHERE category_id IN (SELECT category_id FROM cats))
				AND a.valid_from <= $3::text::date AND (a.valid_to IS NULL OR a.valid_to >= $3::text::date)
				ORDER BY a.use_count DESC, a.id LIMIT $4)
			UNION ALL
			(SELECT `+summaryColumns+`, 1, a.use_count FROM articles a
				WHERE a.valid_from <= $3::text::date AND (a.valid_to IS NULL OR a.valid_to >= $3::text::date)
				ORDER BY a.use_count DESC, a.id LIMIT $4)
		) x ORDER BY prio, use_count DESC, id`, int64(ticketID), phone, today, screenPopArticles)
	br := s.db.SendBatch(ctx, b)
	defer br.Close()
	now := s.now()
	t, err := scanTicket(br.QueryRow(), now)
	switch {
	case err == nil:
		out.Ticket = &t
	case !errors.Is(err, pgx.ErrNoRows):
		return out, err
	}
	rows, err := br.Query()
	if err != nil {
		return out, err
	}
	if out.Recent, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r, now) }); err != nil {
		return out, err
	}
	if out.Recent == nil {
		out.Recent = []Ticket{}
	}
	rows, err = br.Query()
	if err != nil {
		return out, err
	}
	seen := map[int64]bool{}
	for rows.Next() {
		var prio, uses int
		a, err := scanSummary(rows, today, &prio, &uses)
		if err != nil {
			rows.Close()
			return out, err
		}
		if !seen[a.ID] && len(out.Articles) < screenPopArticles {
			seen[a.ID] = true
			out.Articles = append(out.Articles, a)
		}
	}
	rows.Close()
	return out, rows.Err()
}

// Escalated is one escalation the overdue job recorded: whom to notify.
type Escalated struct {
	Ticket ticket.ID              `json:"ticket"`
	Number ticket.Number          `json:"number"`
	Level  ticket.EscalationLevel `json:"level"`
	// Owner is the consultant to notify at the owner level; supervisors are notified at the
	// supervisor level.
	Owner ticket.UserID `json:"owner,omitempty"`
	Due   time.Time     `json:"due"`
}

// RunEscalations is the overdue job: every open ticket past its due time is escalated as
// ticket.CheckEscalation says (to the owning consultant, then the supervisors), through
// ticket.Apply as the system, each level once, with its history entry. It returns what it
// escalated so that the caller notifies. Run it every minute or so; it is idempotent.
func (s *Service) RunEscalations(ctx context.Context, now time.Time) ([]Escalated, error) {
	var out []Escalated
	system := ticket.Actor{Role: ticket.RoleSystem}
	var afterDue time.Time
	var afterID int64
	for {
		rows, err := s.db.Query(ctx, `SELECT id, due_at FROM tickets
			WHERE status IN ('new', 'in_progress', 'forwarded', 'resolved_by_unit') AND due_at IS NOT NULL
			AND due_at <= $1 AND escalation <> 'supervisor' AND (due_at, id) > ($2, $3)
			ORDER BY due_at, id LIMIT 500`, now, afterDue, afterID)
		if err != nil {
			return out, err
		}
		type cand struct {
			ID  int64
			Due time.Time
		}
		cands, err := pgx.CollectRows(rows, pgx.RowToStructByPos[cand])
		if err != nil {
			return out, err
		}
		for _, c := range cands {
			err := s.inTx(ctx, func(tx pgx.Tx) error {
				t, err := s.getTicket(ctx, tx, ticket.ID(c.ID), true)
				if err != nil {
					return err
				}
				e := ticket.CheckEscalation(t.rules(), now, s.policy)
				if e.Level <= t.Escalation {
					return nil
				}
				if _, err := s.apply(ctx, tx, t, ticket.Escalate{Level: e.Level}, system, now); err != nil {
					return err
				}
				out = append(out, Escalated{Ticket: t.ID, Number: t.Number, Level: e.Level, Owner: e.Owner, Due: t.Due})
				return nil
			})
			if err != nil {
				return out, err
			}
		}
		if len(cands) < 500 {
			return out, nil
		}
		afterDue, afterID = cands[len(cands)-1].Due, cands[len(cands)-1].ID
	}
}
