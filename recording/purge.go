package recording

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/internal/store"
)

// AnonymisedText replaces the free text of an expired ticket.
const AnonymisedText = "[anonymised: retention period ended]"

// DefaultKeepEventKeys are the call_events.data keys an anonymised ticket's call events keep:
// values statistics use that identify no one (outcomes, causes, durations, prompts, menu nodes,
// queues). Every other key's value is removed, so a key added later is removed unless it is
// added here. Removed on purpose: caller and called (numbers), digit (keyed-in digits spell
// callback numbers and ticket numbers), number (a callback number), file (its name holds the
// caller's number).
var DefaultKeepEventKeys = []string{
	"outcome", "by", "how", "cause", "reason", "duration_ms", "state", "bridge", "playback", "media", "id",
	"prompts", "key", "lang", "barge_in", "menu", "version", "via_fallback", "node", "kind", "ignored",
	"language", "status", "queue", "skills", "priority", "wait_ms", "position", "agent_id", "leg",
}

// keepHistoryFields are the ticket_history before/after fields an anonymised ticket keeps (the
// lifecycle's, and the street); the values of the others (description, caller_*, address.text,
// address.house_number, address.position, report.how) are replaced by AnonymisedText, so the
// history still shows that they changed.
var keepHistoryFields = []string{
	"id", "number", "status", "kind", "channel", "category", "owner", "unit", "forwarded_to", "registered",
	"forwarded_at", "due", "report.when", "report.by", "report.at", "merged_into", "contacts", "closed_at",
	"escalated", "address.street",
}

// markerName is a file Finalise keeps in the archive directory. The purge refuses to delete or
// judge files where it is missing: an archive directory given wrongly must not make every
// expired recording look already deleted.
const markerName = ".kontakt-recordings"

// ErrPurgeProblems is wrapped by Purge's error when it finished but could not handle some items
// (the report's Problems); any other error means it stopped.
var ErrPurgeProblems = errors.New("recording: the purge had problems")

// purgeLock is the advisory lock key that keeps two purges from running at once.
const purgeLock = 0x6b6f6e74616b7470 // "kontaktp"

// Report is what a purge did, or with DryRun what it would do.
type Report struct {
	Now    time.Time `json:"now"`
	DryRun bool      `json:"dry_run"`
	// Recordings whose files were (would be) deleted.
	Recordings []PurgedRecording `json:"recordings"`
	// Held are expired recordings kept by a legal hold.
	Held []HeldRecording `json:"held"`
	// Tickets whose personal data was (would be) anonymised.
	Tickets []AnonymisedTicket `json:"tickets"`
	// TicketsHeld are expired tickets kept because one of their recordings is under legal hold.
	TicketsHeld []HeldTicket `json:"tickets_held"`
	// OrphanFiles are files in the archive without a recording row that keeps them.
	OrphanFiles []OrphanFile `json:"orphan_files"`
	// OrphanRows are recordings whose file is not in the archive.
	OrphanRows []OrphanRow `json:"orphan_rows"`
	// BytesFreed is the size of the deleted (to be deleted) files.
	BytesFreed int64 `json:"bytes_freed"`
	// Problems are items the purge could not handle; it went on with the others.
	Problems []string `json:"problems"`
}

// PurgedRecording is a recording whose file the purge deleted.
type PurgedRecording struct {
	ID             ID             `json:"id"`
	CallID         store.CallID   `json:"call_id"`
	TicketID       store.TicketID `json:"ticket_id"`
	Leg            int            `json:"leg"`
	State          State          `json:"state"` // before the purge
	Path           string         `json:"path"`
	Bytes          int64          `json:"bytes"`
	SHA256         string         `json:"sha256,omitempty"` // of the deleted file; empty when it was already missing
	RetentionUntil time.Time      `json:"retention_until"`
	FileMissing    bool           `json:"file_missing,omitempty"`
}

// HeldRecording is an expired recording kept by a legal hold.
type HeldRecording struct {
	ID             ID        `json:"id"`
	RetentionUntil time.Time `json:"retention_until"`
	HoldUntil      time.Time `json:"hold_until"`
	Reason         string    `json:"reason"`
}

// AnonymisedTicket is a ticket whose personal data the purge replaced.
type AnonymisedTicket struct {
	ID             store.TicketID `json:"id"`
	Number         string         `json:"number"`
	Status         string         `json:"status"`
	RegisteredAt   time.Time      `json:"registered_at"`
	RetentionUntil time.Time      `json:"retention_until"`
	Fields         []string       `json:"fields"` // ticket columns that held personal data
	Calls          int64          `json:"calls"`  // calls whose numbers were removed
	CallEvents     int64          `json:"call_events"`
	History        int64          `json:"history_entries"` // ticket history entries whose free text or personal fields were replaced
	Extra          int64          `json:"extra,omitempty"` // rows changed by Options.ExtraAnonymisation
}

// HeldTicket is an expired ticket kept because a recording of it is under legal hold.
type HeldTicket struct {
	ID     store.TicketID `json:"id"`
	Number string         `json:"number"`
}

// OrphanFile is a file in the archive that no recording row keeps.
type OrphanFile struct {
	Path  string `json:"path"` // relative to the archive directory
	Bytes int64  `json:"bytes"`
	Hint  string `json:"hint"`
}

// OrphanRow is a recording row whose file is missing from the archive.
type OrphanRow struct {
	ID     ID           `json:"id"`
	CallID store.CallID `json:"call_id"`
	Leg    int          `json:"leg"`
	State  State        `json:"state"`
	Path   string       `json:"path"`
}

// expiryCutoff is the instant before which a registration has expired at now under p: the first
// day of the month p.Months months before now's month, in p's zone. (RetentionUntil is always
// the first of a month, so now >= RetentionUntil(r) exactly when r is before this instant.)
func expiryCutoff(now time.Time, p Policy) time.Time {
	y, m, _ := now.In(p.Zone).Date()
	return time.Date(y, m-time.Month(p.Months), 1, 0, 0, 0, 0, p.Zone)
}

// Purge applies retention at now. It deletes the files of recordings whose retention date has
// passed and that no legal hold keeps (the row becomes purged and an evidence row records the
// deleted file's SHA-256), anonymises the personal data of expired tickets (caller number and
// name, free text, their calls' numbers, the personal values in their call events), keeping what
// statistics need, each with evidence, and reports orphans in both directions without touching
// them. With dryRun it changes nothing and reports what it would do. Items it cannot handle are
// reported in Problems (the error then wraps ErrPurgeProblems) while the others go on.
func (a *Archive) Purge(ctx context.Context, now time.Time, dryRun bool) (Report, error) {
	rep := Report{Now: now.In(a.o.Policy.Zone), DryRun: dryRun, Recordings: []PurgedRecording{}, Held: []HeldRecording{},
		Tickets: []AnonymisedTicket{}, TicketsHeld: []HeldTicket{}, OrphanFiles: []OrphanFile{},
		OrphanRows: []OrphanRow{}, Problems: []string{}}
	err := a.withPurgeLock(ctx, func() error {
		if err := a.purgeRecordings(ctx, now, dryRun, &rep); err != nil {
			return err
		}
		if err := a.anonymiseTickets(ctx, now, dryRun, &rep); err != nil {
			return err
		}
		return a.findOrphans(ctx, &rep)
	})
	if err != nil {
		return rep, fmt.Errorf("recording: purge: %w", err)
	}
	a.log.Info("purge done", "dry_run", dryRun, "recordings", len(rep.Recordings), "bytes", rep.BytesFreed,
		"held", len(rep.Held), "tickets", len(rep.Tickets), "orphan_files", len(rep.OrphanFiles),
		"orphan_rows", len(rep.OrphanRows), "problems", len(rep.Problems))
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%w: %d problem(s), the first: %s", ErrPurgeProblems, len(rep.Problems), rep.Problems[0])
	}
	return rep, nil
}

func (a *Archive) withPurgeLock(ctx context.Context, fn func() error) error {
	var got bool
	switch db := a.db.(type) {
	case *pgxpool.Pool:
		conn, err := db.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(purgeLock)).Scan(&got); err != nil {
			return err
		}
		if got {
			defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(purgeLock)) //nolint:errcheck
		}
	case pgx.Tx:
		if err := db.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(purgeLock)).Scan(&got); err != nil {
			return err
		}
	default:
		if err := db.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(purgeLock)).Scan(&got); err != nil {
			return err
		}
		if got {
			defer db.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(purgeLock)) //nolint:errcheck
		}
	}
	if !got {
		return ErrPurgeRunning
	}
	return fn()
}

// archiveReady reports whether the archive directory is the archive (it has the marker file).
func (a *Archive) archiveReady() error {
	if _, err := os.Stat(filepath.Join(a.o.Root, markerName)); err != nil {
		return fmt.Errorf("%s is not a Kontakt recordings archive (no %s in it: wrong archive directory?): %w",
			a.o.Root, markerName, err)
	}
	return nil
}

// ensureMarker creates the archive directory and its marker file if needed.
func (a *Archive) ensureMarker() error {
	if err := os.MkdirAll(a.o.Root, 0o750); err != nil {
		return err
	}
	p := filepath.Join(a.o.Root, markerName)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return os.WriteFile(p, []byte("Kontakt call recordings archive: recordings rows in Postgres point here. Do not delete this file.\n"), 0o640)
}

func (a *Archive) purgeRecordings(ctx context.Context, now time.Time, dryRun bool, rep *Report) error {
	rows, err := a.db.Query(ctx, `SELECT `+recColumns+` FROM recordings
		WHERE state <> 'purged' AND retention_until <= $1 ORDER BY retention_until, id`, now)
	if err != nil {
		return err
	}
	expired, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recording, error) { return scanRecording(r) })
	if err != nil {
		return err
	}
	var due []Recording
	for _, r := range expired {
		if r.Hold.Active(now) {
			rep.Held = append(rep.Held, HeldRecording{ID: r.ID, RetentionUntil: r.RetentionUntil,
				HoldUntil: r.Hold.Until, Reason: r.Hold.Reason})
			continue
		}
		due = append(due, r)
	}
	if len(due) == 0 {
		return nil
	}
	if err := a.archiveReady(); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d expired recording(s) not purged: %v", len(due), err))
		return nil
	}
	for _, r := range due {
		item, err := a.purgeOne(ctx, r, now, dryRun)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("recording %d: %v", r.ID, err))
			continue
		}
		if item != nil {
			rep.Recordings = append(rep.Recordings, *item)
			rep.BytesFreed += item.Bytes
		}
	}
	return nil
}

// filePath returns the absolute path of a recording's file: the archive file, or for a row
// still in state recording the spool file Asterisk was writing.
func (a *Archive) filePath(r Recording) (string, error) {
	if r.StoragePath != "" {
		return a.abs(r.StoragePath)
	}
	if r.State == StateRecording && r.SpoolPath != "" && filepath.IsAbs(r.SpoolPath) {
		return filepath.Clean(r.SpoolPath), nil
	}
	return "", nil
}

func (a *Archive) purgeOne(ctx context.Context, r Recording, now time.Time, dryRun bool) (*PurgedRecording, error) {
	path, err := a.filePath(r)
	if err != nil {
		return nil, err
	}
	item := &PurgedRecording{ID: r.ID, CallID: r.CallID, TicketID: r.TicketID, Leg: r.Leg, State: r.State,
		Path: r.StoragePath, RetentionUntil: r.RetentionUntil}
	if item.Path == "" {
		item.Path = path
	}
	st, statErr := os.Lstat(path)
	switch {
	case path == "" || errors.Is(statErr, os.ErrNotExist):
		item.FileMissing = path != ""
	case statErr != nil:
		return nil, statErr
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file; not deleting it", path)
	default:
		item.Bytes = st.Size()
	}
	if dryRun {
		item.SHA256 = r.SHA256
		return item, nil
	}
	err = pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		cur, err := scanRecording(tx.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE id = $1 FOR UPDATE`, int64(r.ID)))
		if err != nil {
			return err
		}
		if cur.State == StatePurged || cur.Hold.Active(now) || cur.RetentionUntil.After(now) {
			item = nil // purged, held or extended meanwhile
			return nil
		}
		details := map[string]any{"state_before": string(cur.State), "leg": cur.Leg, "ticket_id": int64(cur.TicketID)}
		var sum *string
		var size *int64
		if path != "" && !item.FileMissing {
			s, n, err := hashFile(path)
			if err != nil {
				return err
			}
			if cur.SHA256 != "" && s != cur.SHA256 {
				details["row_sha256"] = cur.SHA256
				details["checksum_differed"] = true
			}
			if err := removeFile(path); err != nil {
				return err
			}
			sum, size = &s, &n
			item.SHA256, item.Bytes = s, n
		} else {
			if path == "" {
				details["no_file"] = true // a failed recording that never had one
			} else {
				details["file_missing"] = true
			}
			if cur.SHA256 != "" {
				details["row_sha256"] = cur.SHA256
			}
		}
		why := "retention period ended " + cur.RetentionUntil.In(a.o.Policy.Zone).Format(time.RFC3339)
		if cur.Hold != nil {
			why += fmt.Sprintf("; legal hold (%s) ended %s", cur.Hold.Reason, cur.Hold.Until.In(a.o.Policy.Zone).Format(time.RFC3339))
		}
		if _, err := tx.Exec(ctx, `UPDATE recordings SET state = 'purged', purged_at = $2 WHERE id = $1`, int64(r.ID), now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO purge_evidence (at, what, recording_id, ticket_id, call_id, subject, why,
			sha256, bytes, by_actor, details) VALUES ($1, 'recording_file', $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			now, int64(r.ID), int64(cur.TicketID), string(cur.CallID), item.Path, why, sum, size, a.o.Actor, details)
		return err
	})
	if err != nil {
		return nil, err
	}
	if item != nil {
		a.log.Info("recording purged", "recording", r.ID, "path", item.Path, "bytes", item.Bytes, "sha256", item.SHA256,
			"file_missing", item.FileMissing)
	}
	return item, nil
}

const personalCallsWhere = `ticket_id = $1 AND (caller <> '' OR caller_ref IS NOT NULL OR (direction = 'outbound' AND called <> ''))`

// personalEventsWhere selects a ticket's call events with a value under a key not kept ($2).
const personalEventsWhere = `call_id IN (SELECT id FROM calls WHERE ticket_id = $1) AND (jsonb_typeof(data) <> 'object'
	OR EXISTS (SELECT 1 FROM jsonb_object_keys(data) k WHERE k <> ALL($2::text[]) AND k <> 'anonymised'))`

// keptAttributes are the Open311 attributes of ticket t whose answers come from a list the
// category defines (no free text): statistics keep them.
const keptAttributes = `coalesce((SELECT jsonb_object_agg(a.key, a.value) FROM jsonb_each(t.attributes) a
	WHERE EXISTS (SELECT 1 FROM categories c, jsonb_array_elements(c.open311_attributes) d
		WHERE c.id = t.category_id AND d->>'code' = a.key AND d->>'datatype' IN ('singlevaluelist', 'multivaluelist'))), '{}'::jsonb)`

// rounded coarsens a coordinate to three decimals (about 100 m): where problems are stays
// usable, whose house it was does not.
func rounded(col string) string { return `round(` + col + `::numeric, 3)::double precision` }

// personalTicketFields lists which of ticket t's fields hold personal data.
var personalTicketFields = `array_remove(ARRAY[
	CASE WHEN t.caller_phone IS NOT NULL THEN 'caller_phone' END,
	CASE WHEN t.caller_name IS NOT NULL THEN 'caller_name' END,
	CASE WHEN t.caller_email <> '' THEN 'caller_email' END,
	CASE WHEN t.description NOT IN ('', $2) THEN 'description' END,
	CASE WHEN t.report_how NOT IN ('', $2) THEN 'report_how' END,
	CASE WHEN t.address <> '' THEN 'address' END,
	CASE WHEN t.house_number <> '' THEN 'house_number' END,
	CASE WHEN t.lat <> ` + rounded("t.lat") + ` OR t.lon <> ` + rounded("t.lon") + ` THEN 'position' END,
	CASE WHEN t.media_url <> '' THEN 'media_url' END,
	CASE WHEN t.attributes <> ` + keptAttributes + ` THEN 'attributes' END
	], NULL)`

// anonymiseTicket replaces the personal data of ticket $1: numbers, name, e-mail, the free text
// ($2), the address but for the street, the photo, the coordinates coarsened, free-text
// attributes. Kind, status, channel, category, unit, timestamps, outcomes and counts stay.
var anonymiseTicket = `UPDATE tickets t SET caller_phone = NULL, caller_name = NULL, caller_email = '',
	description = CASE WHEN description = '' THEN '' ELSE $2 END,
	report_how = CASE WHEN report_how = '' THEN '' ELSE $2 END,
	address = '', house_number = '', media_url = '',
	lat = ` + rounded("lat") + `, lon = ` + rounded("lon") + `,
	attributes = ` + keptAttributes + `, anonymised_at = $3
	WHERE id = $1`

// historyValues replaces the values of the fields not kept ($3) in a ticket_history column.
func historyValues(col string) string {
	return `(SELECT coalesce(jsonb_object_agg(key, CASE WHEN key = ANY($3::text[]) OR value = '""'::jsonb
		THEN value ELSE to_jsonb($2::text) END), '{}'::jsonb) FROM jsonb_each(` + col + `))`
}

func historyPersonal(col string) string {
	return `EXISTS (SELECT 1 FROM jsonb_each(` + col + `) WHERE key <> ALL($3::text[]) AND value <> '""'::jsonb
		AND value <> to_jsonb($2::text))`
}

var personalHistoryWhere = `ticket_id = $1 AND (note NOT IN ('', $2) OR ` + historyPersonal("before") + ` OR ` + historyPersonal("after") + `)`

var anonymiseHistory = `UPDATE ticket_history SET note = CASE WHEN note = '' THEN '' ELSE $2 END,
	before = ` + historyValues("before") + `, after = ` + historyValues("after") + ` WHERE ` + personalHistoryWhere

func (a *Archive) anonymiseTickets(ctx context.Context, now time.Time, dryRun bool, rep *Report) error {
	cutoff := expiryCutoff(now, a.o.Policy)
	rows, err := a.db.Query(ctx, `SELECT t.id, t.number, t.status, t.created_at,
			EXISTS (SELECT 1 FROM recordings r WHERE r.ticket_id = t.id AND r.hold_until > $2)
		FROM tickets t WHERE t.anonymised_at IS NULL AND t.created_at < $1 ORDER BY t.created_at, t.id`, cutoff, now)
	if err != nil {
		return err
	}
	type cand struct {
		id             store.TicketID
		number, status string
		registered     time.Time
		held           bool
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cand, error) {
		var c cand
		err := r.Scan(&c.id, &c.number, &c.status, &c.registered, &c.held)
		return c, err
	})
	if err != nil {
		return err
	}
	for _, c := range cands {
		if !Expired(c.registered, now, a.o.Policy) {
			// expiryCutoff and RetentionUntil disagree: never delete early.
			rep.Problems = append(rep.Problems, fmt.Sprintf("ticket %s: registered %s is not expired at %s by the retention rule; skipped",
				c.number, c.registered.Format(time.RFC3339), now.Format(time.RFC3339)))
			continue
		}
		if c.held {
			rep.TicketsHeld = append(rep.TicketsHeld, HeldTicket{ID: c.id, Number: c.number})
			continue
		}
		t := AnonymisedTicket{ID: c.id, Number: c.number, Status: c.status, RegisteredAt: c.registered,
			RetentionUntil: RetentionUntil(c.registered, a.o.Policy)}
		err := pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `SELECT `+personalTicketFields+` FROM tickets t
				WHERE t.id = $1 AND t.anonymised_at IS NULL FOR UPDATE`, int64(c.id), AnonymisedText).Scan(&t.Fields)
			if errors.Is(err, pgx.ErrNoRows) {
				return errSkip // anonymised meanwhile
			}
			if err != nil {
				return err
			}
			if dryRun {
				for _, q := range []struct {
					n    *int64
					sql  string
					args []any
				}{
					{&t.Calls, `SELECT count(*) FROM calls WHERE ` + personalCallsWhere, nil},
					{&t.CallEvents, `SELECT count(*) FROM call_events WHERE ` + personalEventsWhere, []any{a.o.KeepEventKeys}},
					{&t.History, `SELECT count(*) FROM ticket_history WHERE ` + personalHistoryWhere, []any{AnonymisedText, keepHistoryFields}},
				} {
					if err := tx.QueryRow(ctx, q.sql, append([]any{int64(c.id)}, q.args...)...).Scan(q.n); err != nil {
						return err
					}
				}
				return errSkip // nothing changed; the row lock is released
			}
			if _, err := tx.Exec(ctx, anonymiseTicket, int64(c.id), AnonymisedText, now); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE calls SET caller = '', caller_ref = NULL,
				called = CASE WHEN direction = 'outbound' THEN '' ELSE called END WHERE `+personalCallsWhere, int64(c.id))
			if err != nil {
				return err
			}
			t.Calls = tag.RowsAffected()
			if _, err := tx.Exec(ctx, `UPDATE callbacks SET number = '',
				status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END WHERE ticket_id = $1`, int64(c.id)); err != nil {
				return err
			}
			tag, err = tx.Exec(ctx, `UPDATE call_events SET data = CASE WHEN jsonb_typeof(data) <> 'object' THEN '{}'::jsonb
				ELSE coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(data) WHERE key = ANY($2::text[])), '{}'::jsonb)
				END || '{"anonymised": true}'::jsonb WHERE `+personalEventsWhere, int64(c.id), a.o.KeepEventKeys)
			if err != nil {
				return err
			}
			t.CallEvents = tag.RowsAffected()
			tag, err = tx.Exec(ctx, anonymiseHistory, int64(c.id), AnonymisedText, keepHistoryFields)
			if err != nil {
				return err
			}
			t.History = tag.RowsAffected()
			for _, q := range a.o.ExtraAnonymisation {
				tag, err := tx.Exec(ctx, q, int64(c.id))
				if err != nil {
					return fmt.Errorf("extra anonymisation %q: %w", firstLine(q), err)
				}
				t.Extra += tag.RowsAffected()
			}
			why := fmt.Sprintf("retention period ended %s (registered %s; kept %d full calendar months after the registration month)",
				t.RetentionUntil.In(a.o.Policy.Zone).Format(time.RFC3339), c.registered.In(a.o.Policy.Zone).Format(time.RFC3339),
				a.o.Policy.Months)
			details := map[string]any{"fields": t.Fields, "calls": t.Calls, "call_events": t.CallEvents,
				"history_entries": t.History, "status": c.status, "registered_at": c.registered}
			if len(a.o.ExtraAnonymisation) > 0 {
				details["extra_rows"] = t.Extra
			}
			_, err = tx.Exec(ctx, `INSERT INTO purge_evidence (at, what, ticket_id, subject, why, by_actor, details)
				VALUES ($1, 'ticket_personal_data', $2, $3, $4, $5, $6)`, now, int64(c.id), c.number, why, a.o.Actor, details)
			return err
		})
		if t.Fields == nil {
			t.Fields = []string{}
		}
		switch {
		case errors.Is(err, errSkip) && dryRun:
			rep.Tickets = append(rep.Tickets, t)
		case errors.Is(err, errSkip):
		case err != nil:
			rep.Problems = append(rep.Problems, fmt.Sprintf("ticket %s: %v", c.number, err))
		default:
			rep.Tickets = append(rep.Tickets, t)
			a.log.Info("ticket anonymised", "ticket", c.number, "fields", t.Fields, "calls", t.Calls,
				"call_events", t.CallEvents, "history_entries", t.History)
		}
	}
	return nil
}

// errSkip rolls back a ticket's transaction without it being a problem.
var errSkip = errors.New("skip")

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "…"
	}
	return s
}

// archiveName matches the file name of a recording: <call uuid>-<leg>.wav.
var archiveName = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([1-9][0-9]*)\.wav$`)

// findOrphans reports files in the archive that no kept recording row names, and kept rows
// (finalised or failed with a file) whose file is missing. Memory is bounded by the kept rows
// (what retention allows), not by the purged history.
func (a *Archive) findOrphans(ctx context.Context, rep *Report) error {
	rows, err := a.db.Query(ctx, `SELECT id, call_id::text, leg, state, storage_path FROM recordings
		WHERE state IN ('finalised', 'failed') AND storage_path IS NOT NULL`)
	if err != nil {
		return err
	}
	kept, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrphanRow, error) {
		var x OrphanRow
		var call, st string
		err := r.Scan(&x.ID, &call, &x.Leg, &st, &x.Path)
		x.CallID, x.State = store.CallID(call), State(st)
		return x, err
	})
	if err != nil {
		return err
	}
	if err := a.archiveReady(); err != nil {
		var hasFiles bool
		if qerr := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recordings WHERE storage_path IS NOT NULL)`).Scan(&hasFiles); qerr != nil {
			return qerr
		}
		if hasFiles || !errors.Is(err, fs.ErrNotExist) {
			rep.Problems = append(rep.Problems, "orphans not checked: "+err.Error())
		}
		return nil
	}
	byPath := make(map[string]bool, len(kept))
	for _, x := range kept {
		byPath[x.Path] = true
		p, err := a.abs(x.Path)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("recording %d: %v", x.ID, err))
			continue
		}
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			rep.OrphanRows = append(rep.OrphanRows, x)
		} else if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("recording %d: %v", x.ID, err))
		}
	}
	return filepath.WalkDir(a.o.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("reading the archive: %v", err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(a.o.Root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == markerName || byPath[rel] {
			return nil
		}
		o := OrphanFile{Path: rel}
		if info, err := d.Info(); err == nil {
			o.Bytes = info.Size()
		}
		o.Hint, err = a.orphanHint(ctx, rel, d)
		if err != nil {
			return err
		}
		rep.OrphanFiles = append(rep.OrphanFiles, o)
		return nil
	})
}

// orphanHint says what an orphan file probably is.
func (a *Archive) orphanHint(ctx context.Context, rel string, d fs.DirEntry) (string, error) {
	if !d.Type().IsRegular() {
		return "not a regular file", nil
	}
	var id ID
	var state string
	err := a.db.QueryRow(ctx, `SELECT id, state FROM recordings WHERE storage_path = $1`, rel).Scan(&id, &state)
	switch {
	case err == nil && State(state) == StatePurged:
		return fmt.Sprintf("the file of recording %d, which is purged (its deletion did not happen)", id), nil
	case err == nil:
		return fmt.Sprintf("the file of recording %d (%s)", id, state), nil
	case !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	if strings.HasPrefix(d.Name(), tempPrefix) {
		return "a partial copy left by an interrupted move", nil
	}
	if m := archiveName.FindStringSubmatch(d.Name()); m != nil {
		leg, err := strconv.ParseInt(m[2], 10, 32)
		if err != nil {
			return "no recording row", nil
		}
		err = a.db.QueryRow(ctx, `SELECT id FROM recordings WHERE call_id = $1 AND leg = $2 AND state = 'recording'`,
			m[1], leg).Scan(&id)
		if err == nil {
			return fmt.Sprintf("recording %d is still in state recording: its Finalise was interrupted; run it again", id), nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", err
		}
	}
	return "no recording row", nil
}
