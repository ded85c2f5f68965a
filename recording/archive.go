package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/store"
	"kontakt/internal/workcal"
)

// ID identifies a recording (one call leg).
type ID int64

// State is where a recording is in its life. The set is closed; the zero value is unknown.
type State string

// The states.
const (
	StateUnknown   State = ""
	StateRecording State = "recording" // Asterisk is writing the file (or a crash left it so)
	StateFinalised State = "finalised" // the file is in the archive, verified
	StateFailed    State = "failed"    // no usable recording; FailureReason says why
	StatePurged    State = "purged"    // the file was deleted at the end of retention
)

// States lists every state.
var States = []State{StateRecording, StateFinalised, StateFailed, StatePurged}

// ParseState reads a state's name.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return StateUnknown, fmt.Errorf("recording: unknown state %q", s)
}

func (s State) String() string {
	if s == StateUnknown {
		return "unknown"
	}
	return string(s)
}

// Errors of the archive.
var (
	ErrNotFound         = errors.New("recording: no such recording")
	ErrPurged           = errors.New("recording: purged at the end of retention")
	ErrRecordingFailed  = errors.New("recording: failed")
	ErrChecksumMismatch = errors.New("recording: checksum mismatch")
	ErrNotRecording     = errors.New("recording: not recording")
	ErrAlreadyPaused    = errors.New("recording: already paused")
	ErrNotPaused        = errors.New("recording: not paused")
	ErrForbidden        = errors.New("recording: not allowed for this user")
	ErrPurgeRunning     = errors.New("recording: another purge is running")
)

// InvalidError is a request the archive refuses, with the field at fault.
type InvalidError struct {
	Field, Message string
}

func (e *InvalidError) Error() string { return "recording: " + e.Field + ": " + e.Message }

// Pause is a stretch of a recording during which the audio was paused, in milliseconds from the
// start of the recording; To is nil while paused.
type Pause struct {
	From int64  `json:"from_ms"`
	To   *int64 `json:"to_ms"`
	By   int64  `json:"by"`
}

// Hold is a legal hold: the file is kept past its retention date until Until (or until cleared).
type Hold struct {
	By     int64     `json:"by"`
	Reason string    `json:"reason"`
	Until  time.Time `json:"until"`
	SetAt  time.Time `json:"set_at"`
}

// Active reports whether the hold keeps the file at now.
func (h *Hold) Active(now time.Time) bool { return h != nil && now.Before(h.Until) }

// Recording is a recordings row.
type Recording struct {
	ID             ID             `json:"id"`
	CallID         store.CallID   `json:"call_id"`
	TicketID       store.TicketID `json:"ticket_id"`
	Leg            int            `json:"leg"`
	Agents         []int64        `json:"agent_user_ids"`
	State          State          `json:"state"`
	FailureReason  string         `json:"failure_reason,omitempty"`
	Note           string         `json:"note,omitempty"`
	StartedAt      time.Time      `json:"started_at"`
	EndedAt        *time.Time     `json:"ended_at,omitempty"`
	DurationMS     int64          `json:"duration_ms"`
	Bytes          int64          `json:"bytes"`
	Format         string         `json:"format,omitempty"`
	Codec          string         `json:"codec,omitempty"`
	SampleRate     int            `json:"sample_rate,omitempty"`
	Channels       int            `json:"channels,omitempty"`
	SHA256         string         `json:"sha256,omitempty"`
	SpoolPath      string         `json:"-"`
	StoragePath    string         `json:"-"` // relative to the archive directory
	Pauses         []Pause        `json:"pauses"`
	RetentionUntil time.Time      `json:"retention_until"`
	Hold           *Hold          `json:"hold,omitempty"`
	FinalisedAt    *time.Time     `json:"finalised_at,omitempty"`
	PurgedAt       *time.Time     `json:"purged_at,omitempty"`
}

// Paused reports whether the recording is paused now.
func (r Recording) Paused() bool { return len(r.Pauses) > 0 && r.Pauses[len(r.Pauses)-1].To == nil }

// HasAgent reports whether the user was an agent on the recorded leg.
func (r Recording) HasAgent(user int64) bool {
	for _, a := range r.Agents {
		if a == user {
			return true
		}
	}
	return false
}

const recColumns = `id, call_id::text, ticket_id, leg, agent_user_ids, state, coalesce(failure_reason, ''),
	coalesce(note, ''), started_at, ended_at, coalesce(duration_ms, 0), coalesce(bytes, 0), coalesce(format, ''),
	coalesce(codec, ''), coalesce(sample_rate, 0), coalesce(channels, 0), coalesce(sha256, ''),
	coalesce(spool_path, ''), coalesce(storage_path, ''), pauses, retention_until, hold_by,
	coalesce(hold_reason, ''), hold_until, hold_set_at, finalised_at, purged_at`

func scanRecording(row pgx.Row) (Recording, error) {
	var r Recording
	var call, state string
	var holdBy *int64
	var holdReason string
	var holdUntil, holdSetAt *time.Time
	err := row.Scan(&r.ID, &call, &r.TicketID, &r.Leg, &r.Agents, &state, &r.FailureReason, &r.Note,
		&r.StartedAt, &r.EndedAt, &r.DurationMS, &r.Bytes, &r.Format, &r.Codec, &r.SampleRate, &r.Channels,
		&r.SHA256, &r.SpoolPath, &r.StoragePath, &r.Pauses, &r.RetentionUntil, &holdBy, &holdReason,
		&holdUntil, &holdSetAt, &r.FinalisedAt, &r.PurgedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.CallID, r.State = store.CallID(call), State(state)
	if r.Agents == nil {
		r.Agents = []int64{}
	}
	if r.Pauses == nil {
		r.Pauses = []Pause{}
	}
	if holdBy != nil && holdUntil != nil && holdSetAt != nil {
		r.Hold = &Hold{By: *holdBy, Reason: holdReason, Until: *holdUntil, SetAt: *holdSetAt}
	}
	return r, nil
}

// Options configure an Archive.
type Options struct {
	// Root is the archive directory (absolute). Files are kept at Root/YYYY/MM/DD/<call>-<leg>.wav,
	// the date being the recording's start in the policy's zone.
	Root string
	// Policy is the retention period; its zone is also the archive's calendar.
	Policy Policy
	// Logger receives what the archive does; nil discards.
	Logger *slog.Logger
	// Actor names who runs this process in purge evidence, e.g. "kontakt serve (scheduled purge)".
	Actor string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// KeepEventKeys are the keys of call_events.data kept when an expired ticket is anonymised
	// (statistics need them and they hold no personal data); every other key's value is
	// replaced. Nil means DefaultKeepEventKeys.
	KeepEventKeys []string
	// ConsultantsOwnCalls lets a consultant read the metadata of and listen to the recordings of
	// calls they took (the API; supervisors and administrators may always).
	ConsultantsOwnCalls bool
	// ExtraAnonymisation are SQL statements run, with $1 the ticket's id, for every expired
	// ticket, in the same transaction as the built-in anonymisation: for personal data in tables
	// added after this package (a ticket's notes or history, say). Each must be idempotent.
	ExtraAnonymisation []string
}

// Archive is the recordings archive: rows in Postgres, files under Root.
type Archive struct {
	db  store.DB
	o   Options
	log *slog.Logger
}

// New returns the archive of recordings on db with files under o.Root.
func New(db store.DB, o Options) (*Archive, error) {
	if o.Root == "" || !filepath.IsAbs(o.Root) {
		return nil, &InvalidError{"archive_dir", fmt.Sprintf("must be an absolute directory path, not %q", o.Root)}
	}
	if err := o.Policy.Validate(); err != nil {
		return nil, err
	}
	if o.Policy.Months == 0 {
		o.Policy.Months = DefaultMonths
	}
	if o.Policy.Zone == nil {
		o.Policy.Zone = workcal.Warsaw()
	}
	o.Root = filepath.Clean(o.Root)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Actor == "" {
		o.Actor = "kontakt"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeepEventKeys == nil {
		o.KeepEventKeys = DefaultKeepEventKeys
	}
	return &Archive{db: db, o: o, log: o.Logger.With("component", "recording")}, nil
}

// Root returns the archive directory.
func (a *Archive) Root() string { return a.o.Root }

// Policy returns the retention policy.
func (a *Archive) Policy() Policy { return a.o.Policy }

// Meta describes a recording to Begin, Finalise and Fail.
type Meta struct {
	CallID store.CallID
	// TicketID is the ticket the call belongs to; zero means the call's ticket.
	TicketID store.TicketID
	// Leg numbers the call's legs from 1; zero in Begin means the call's next leg.
	Leg int
	// Agents are the user ids of the agents on this leg.
	Agents []int64
	// StartedAt is when recording started (Begin; zero means now).
	StartedAt time.Time
	// EndedAt is when recording stopped (Finalise, Fail; zero means now).
	EndedAt time.Time
	// SpoolFile is where Asterisk writes the file (Begin), so a crash leaves a pointer to it.
	SpoolFile string
	// Abnormal says why the call ended abnormally (Finalise, Fail); empty if it ended normally.
	Abnormal string
}

// Begin creates the row of a recording that is starting, in state recording, so that a crash
// before Finalise leaves evidence. Its retention date is computed from the ticket's
// registration. Beginning a leg that already has a row returns that row.
func (a *Archive) Begin(ctx context.Context, m Meta) (Recording, error) {
	if m.CallID == "" {
		return Recording{}, &InvalidError{"call_id", "missing"}
	}
	if m.Leg < 0 {
		return Recording{}, &InvalidError{"leg", "must be positive"}
	}
	if m.StartedAt.IsZero() {
		m.StartedAt = a.o.Now()
	}
	if m.Agents == nil {
		m.Agents = []int64{}
	}
	var rec Recording
	err := pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		var callTicket *int64
		// Locking the call serialises the legs' numbering.
		err := tx.QueryRow(ctx, `SELECT ticket_id FROM calls WHERE id = $1 FOR UPDATE`, string(m.CallID)).Scan(&callTicket)
		if errors.Is(err, pgx.ErrNoRows) {
			return &InvalidError{"call_id", fmt.Sprintf("no call %s", m.CallID)}
		}
		if err != nil {
			return err
		}
		ticket := int64(m.TicketID)
		if ticket == 0 {
			if callTicket == nil {
				return &InvalidError{"ticket_id", fmt.Sprintf("call %s has no ticket", m.CallID)}
			}
			ticket = *callTicket
		}
		var registered time.Time
		err = tx.QueryRow(ctx, `SELECT created_at FROM tickets WHERE id = $1`, ticket).Scan(&registered)
		if errors.Is(err, pgx.ErrNoRows) {
			return &InvalidError{"ticket_id", fmt.Sprintf("no ticket %d", ticket)}
		}
		if err != nil {
			return err
		}
		leg := m.Leg
		if leg == 0 {
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(leg), 0) + 1 FROM recordings WHERE call_id = $1`,
				string(m.CallID)).Scan(&leg); err != nil {
				return err
			}
		}
		rec, err = scanRecording(tx.QueryRow(ctx, `INSERT INTO recordings
			(call_id, ticket_id, leg, agent_user_ids, started_at, spool_path, retention_until)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7)
			ON CONFLICT (call_id, leg) DO NOTHING RETURNING `+recColumns,
			string(m.CallID), ticket, leg, m.Agents, m.StartedAt, m.SpoolFile, RetentionUntil(registered, a.o.Policy)))
		if errors.Is(err, ErrNotFound) {
			rec, err = a.byLeg(ctx, tx, m.CallID, leg)
		}
		return err
	})
	if err != nil {
		return Recording{}, fmt.Errorf("recording: begin %s: %w", m.CallID, err)
	}
	a.log.Info("recording started", "recording", rec.ID, "call", rec.CallID, "leg", rec.Leg)
	return rec, nil
}

// Get returns a recording.
func (a *Archive) Get(ctx context.Context, id ID) (Recording, error) {
	return scanRecording(a.db.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE id = $1`, int64(id)))
}

func (a *Archive) byLeg(ctx context.Context, db store.DB, call store.CallID, leg int) (Recording, error) {
	return scanRecording(db.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE call_id = $1 AND leg = $2`,
		string(call), leg))
}

// ByLeg returns the recording of a call's leg.
func (a *Archive) ByLeg(ctx context.Context, call store.CallID, leg int) (Recording, error) {
	return a.byLeg(ctx, a.db, call, leg)
}

// Unfinished returns the recordings still in state recording that started before before (for
// the switchboard to reconcile with the calls Asterisk still has after a restart).
func (a *Archive) Unfinished(ctx context.Context, before time.Time) ([]Recording, error) {
	rows, err := a.db.Query(ctx, `SELECT `+recColumns+` FROM recordings WHERE state = 'recording' AND started_at < $1
		ORDER BY started_at`, before)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recording, error) { return scanRecording(r) })
}

// archivePath is where a recording's file is kept, relative to the archive directory.
func (a *Archive) archivePath(r Recording) string {
	y, m, d := r.StartedAt.In(a.o.Policy.Zone).Date()
	return fmt.Sprintf("%04d/%02d/%02d/%s-%d.wav", y, int(m), d, r.CallID, r.Leg)
}

// abs returns the absolute path of a path relative to the archive directory, refusing one that
// would leave it.
func (a *Archive) abs(rel string) (string, error) {
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("recording: storage path %q is not inside the archive", rel)
	}
	return filepath.Join(a.o.Root, rel), nil
}

// Finalise takes a finished recording's file from Asterisk's spool into the archive: it reads the
// WAV header (duration), computes the SHA-256 and size, places the file at
// Root/YYYY/MM/DD/<call>-<leg>.wav (a link on one filesystem; a copy, fsync and link across
// filesystems), verifies the checksum of the archived file, removes the spool file and marks the
// row finalised. A call that ended abnormally still yields a finalised file when the file is
// usable, and otherwise an explicit failed row with the reason (the error then wraps
// ErrRecordingFailed). A file that is not a usable WAV is still archived (it may hold personal
// data, so the purge must find it) under a failed row. Finalise is idempotent and recovers from a
// crash between its steps: it may be called again with the same arguments.
func (a *Archive) Finalise(ctx context.Context, spoolFile string, m Meta) (Recording, error) {
	if m.Leg < 1 {
		return Recording{}, &InvalidError{"leg", "must be positive"}
	}
	if m.EndedAt.IsZero() {
		m.EndedAt = a.o.Now()
	}
	rec, err := a.byLeg(ctx, a.db, m.CallID, m.Leg)
	if errors.Is(err, ErrNotFound) {
		// Begin was never recorded (the database was away when recording started): create it now.
		start := m
		if start.StartedAt.IsZero() {
			start.StartedAt = m.EndedAt
		}
		start.SpoolFile = spoolFile
		rec, err = a.Begin(ctx, start)
	}
	if err != nil {
		return Recording{}, err
	}
	switch rec.State {
	case StateFinalised:
		return rec, nil
	case StatePurged:
		return rec, ErrPurged
	}
	rel := a.archivePath(rec)
	dst, err := a.abs(rel)
	if err != nil {
		return rec, err
	}
	src := spoolFile
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(dst); err == nil {
			src = dst // placed by an earlier attempt that stopped before the row was written
		} else {
			reason := fmt.Sprintf("no recording file: %s does not exist", spoolFile)
			if spoolFile == "" {
				reason = "no recording file was given"
			}
			return a.fail(ctx, rec, m, reason, nil)
		}
	} else if err != nil {
		return rec, fmt.Errorf("recording: finalise %s: %w", spoolFile, err)
	}

	sum, size, err := hashFile(src)
	if err != nil {
		return rec, fmt.Errorf("recording: finalise: reading %s: %w", src, err)
	}
	info, wavErr := readWAVFile(src, size)
	if err := a.ensureMarker(); err != nil {
		return rec, fmt.Errorf("recording: finalise: archive directory: %w", err)
	}
	if src != dst {
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return rec, fmt.Errorf("recording: finalise: %w", err)
		}
		if _, err := os.Stat(dst); err == nil {
			// An earlier attempt placed the file but did not remove the spool file.
			if got, _, err := hashFile(dst); err != nil || got != sum {
				return rec, fmt.Errorf("recording: finalise: %s already holds a different file than %s", dst, src)
			}
		} else if _, err := placeFile(src, dst); err != nil {
			return rec, fmt.Errorf("recording: finalise: placing %s at %s: %w", src, dst, err)
		}
		got, gotSize, err := hashFile(dst)
		if err != nil {
			return rec, fmt.Errorf("recording: finalise: verifying %s: %w", dst, err)
		}
		if got != sum || gotSize != size {
			// The copy is not the file: drop it and keep the spool file, which is still intact.
			os.Remove(dst)
			reason := fmt.Sprintf("checksum mismatch after copying to the archive (spool file %s: sha256 %s, %d bytes; archive copy: sha256 %s, %d bytes); the spool file is kept",
				src, sum, size, got, gotSize)
			_, ferr := a.fail(ctx, rec, m, reason, nil)
			return rec, errors.Join(fmt.Errorf("%w: %s", ErrChecksumMismatch, reason), ferr)
		}
		if err := removeFile(src); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.log.Warn("archived recording but could not remove the spool file", "file", src, "err", err)
		}
	}
	facts := &fileFacts{rel: rel, sha256: sum, bytes: size}
	if wavErr != nil {
		return a.fail(ctx, rec, m, "the file is not a playable recording: "+wavErr.Error(), facts)
	}
	if info.DataBytes == 0 {
		return a.fail(ctx, rec, m, "the file holds no audio", facts)
	}
	var notes []string
	if m.Abnormal != "" {
		notes = append(notes, "the call ended abnormally: "+m.Abnormal)
	}
	if info.Unterminated {
		notes = append(notes, "the WAV header was incomplete (the recorder did not stop cleanly); the duration is that of the audio in the file")
	}
	duration := info.Duration().Milliseconds()
	var out Recording
	err = pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		cur, err := scanRecording(tx.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE id = $1 FOR UPDATE`, int64(rec.ID)))
		if err != nil {
			return err
		}
		pauses := cur.Pauses
		if n := len(pauses); n > 0 && pauses[n-1].To == nil {
			end := max(duration, pauses[n-1].From)
			pauses[n-1].To = &end
			notes = append(notes, "the recording ended while paused")
		}
		out, err = scanRecording(tx.QueryRow(ctx, `UPDATE recordings SET state = 'finalised', failure_reason = NULL,
			note = NULLIF($2, ''), ended_at = $3, duration_ms = $4, bytes = $5, format = 'wav', codec = $6,
			sample_rate = $7, channels = $8, sha256 = $9, storage_path = $10, pauses = $11, finalised_at = $12
			WHERE id = $1 RETURNING `+recColumns,
			int64(rec.ID), strings.Join(notes, "; "), m.EndedAt, duration, size, info.Codec(), info.SampleRate,
			info.Channels, sum, rel, pauses, a.o.Now()))
		return err
	})
	if err != nil {
		return rec, fmt.Errorf("recording: finalise %d: %w", rec.ID, err)
	}
	a.log.Info("recording finalised", "recording", out.ID, "call", out.CallID, "leg", out.Leg,
		"duration_ms", out.DurationMS, "bytes", out.Bytes, "path", out.StoragePath)
	return out, nil
}

func readWAVFile(path string, size int64) (WAVInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return WAVInfo{}, err
	}
	defer f.Close()
	return ReadWAV(f, size)
}

// fileFacts describe a file kept in the archive under a failed row.
type fileFacts struct {
	rel    string
	sha256 string
	bytes  int64
}

// fail marks a recording failed with a reason; the error returned wraps ErrRecordingFailed.
func (a *Archive) fail(ctx context.Context, rec Recording, m Meta, reason string, f *fileFacts) (Recording, error) {
	if m.Abnormal != "" {
		reason += " (the call ended abnormally: " + m.Abnormal + ")"
	}
	var rel, sum *string
	var size *int64
	if f != nil {
		rel, sum, size = &f.rel, &f.sha256, &f.bytes
	}
	out, err := scanRecording(a.db.QueryRow(ctx, `UPDATE recordings SET state = 'failed', failure_reason = $2,
		ended_at = coalesce(ended_at, $3), storage_path = coalesce($4, storage_path), sha256 = coalesce($5, sha256),
		bytes = coalesce($6, bytes), format = CASE WHEN $4::text IS NULL THEN format ELSE 'wav' END
		WHERE id = $1 AND state IN ('recording', 'failed') RETURNING `+recColumns,
		int64(rec.ID), reason, m.EndedAt, rel, sum, size))
	if err != nil {
		return rec, fmt.Errorf("recording: marking %d failed (%s): %w", rec.ID, reason, err)
	}
	a.log.Warn("recording failed", "recording", out.ID, "call", out.CallID, "leg", out.Leg, "reason", reason)
	return out, fmt.Errorf("%w: %s", ErrRecordingFailed, reason)
}

// Fail records that a leg's recording failed (it could not start, or the call ended abnormally
// and no file will come), creating the row if recording never began: never a silent gap. A
// finalised recording is not changed.
func (a *Archive) Fail(ctx context.Context, m Meta, reason string) (Recording, error) {
	if strings.TrimSpace(reason) == "" {
		return Recording{}, &InvalidError{"reason", "missing"}
	}
	if m.EndedAt.IsZero() {
		m.EndedAt = a.o.Now()
	}
	if m.Leg < 0 {
		return Recording{}, &InvalidError{"leg", "must be positive"}
	}
	var rec Recording
	var err error
	if m.Leg > 0 {
		rec, err = a.byLeg(ctx, a.db, m.CallID, m.Leg)
	}
	if m.Leg == 0 || errors.Is(err, ErrNotFound) {
		start := m
		if start.StartedAt.IsZero() {
			start.StartedAt = m.EndedAt
		}
		rec, err = a.Begin(ctx, start)
	}
	if err != nil {
		return Recording{}, err
	}
	if rec.State != StateRecording && rec.State != StateFailed {
		return rec, fmt.Errorf("recording: %d is %s, not failing it", rec.ID, rec.State)
	}
	out, err := a.fail(ctx, rec, Meta{EndedAt: m.EndedAt, Abnormal: m.Abnormal}, reason, nil)
	if errors.Is(err, ErrRecordingFailed) {
		err = nil
	}
	return out, err
}

// Pause marks the recording paused from at (the audio itself is paused by the switchboard).
func (a *Archive) Pause(ctx context.Context, id ID, at time.Time, by int64) error {
	return a.editPauses(ctx, id, func(r Recording) ([]Pause, error) {
		if r.Paused() {
			return nil, ErrAlreadyPaused
		}
		from := max(at.Sub(r.StartedAt).Milliseconds(), 0)
		if n := len(r.Pauses); n > 0 && *r.Pauses[n-1].To > from {
			from = *r.Pauses[n-1].To
		}
		return append(r.Pauses, Pause{From: from, By: by}), nil
	})
}

// Resume marks the end of the recording's pause at at.
func (a *Archive) Resume(ctx context.Context, id ID, at time.Time, by int64) error {
	return a.editPauses(ctx, id, func(r Recording) ([]Pause, error) {
		if !r.Paused() {
			return nil, ErrNotPaused
		}
		p := &r.Pauses[len(r.Pauses)-1]
		to := max(at.Sub(r.StartedAt).Milliseconds(), p.From)
		p.To = &to
		return r.Pauses, nil
	})
}

func (a *Archive) editPauses(ctx context.Context, id ID, edit func(Recording) ([]Pause, error)) error {
	return pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		r, err := scanRecording(tx.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE id = $1 FOR UPDATE`, int64(id)))
		if err != nil {
			return err
		}
		if r.State != StateRecording {
			return fmt.Errorf("%w: recording %d is %s", ErrNotRecording, id, r.State)
		}
		ps, err := edit(r)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE recordings SET pauses = $2 WHERE id = $1`, int64(id), ps)
		return err
	})
}

// Verify re-reads a finalised recording's file and checks its size and SHA-256 against the row.
func (a *Archive) Verify(ctx context.Context, id ID) error {
	r, err := a.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.State != StateFinalised {
		return fmt.Errorf("recording: %d is %s, not finalised", id, r.State)
	}
	path, err := a.abs(r.StoragePath)
	if err != nil {
		return err
	}
	sum, size, err := hashFile(path)
	if err != nil {
		return fmt.Errorf("recording: verify %d: %w", id, err)
	}
	if sum != r.SHA256 || size != r.Bytes {
		return fmt.Errorf("%w: recording %d (%s): file has sha256 %s and %d bytes, the row says %s and %d bytes",
			ErrChecksumMismatch, id, r.StoragePath, sum, size, r.SHA256, r.Bytes)
	}
	return nil
}
