package recording

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Purpose is why someone listens to a recording. The set is closed; the zero value is unknown.
type Purpose string

// The purposes.
const (
	PurposeUnknown            Purpose = ""
	PurposeComplaint          Purpose = "complaint"            // handling a complaint about the service
	PurposeQuality            Purpose = "quality"              // quality control
	PurposeDataSubjectRequest Purpose = "data_subject_request" // the recorded resident asked for their data
	PurposeLegal              Purpose = "legal"                // a court, the police, a legal claim
	PurposeTraining           Purpose = "training"             // training consultants
)

// Purposes lists every purpose.
var Purposes = []Purpose{PurposeComplaint, PurposeQuality, PurposeDataSubjectRequest, PurposeLegal, PurposeTraining}

// ParsePurpose reads a purpose's name.
func ParsePurpose(s string) (Purpose, error) {
	for _, p := range Purposes {
		if string(p) == s {
			return p, nil
		}
	}
	return PurposeUnknown, fmt.Errorf("unknown purpose %q (purposes: %s)", s, purposeList())
}

func purposeList() string {
	var names []string
	for _, p := range Purposes {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

func (p Purpose) String() string {
	if p == PurposeUnknown {
		return "unknown"
	}
	return string(p)
}

// Action is what was done with a recording's audio.
type Action string

// The actions.
const (
	ActionUnknown  Action = ""
	ActionListen   Action = "listen"   // played in the browser
	ActionDownload Action = "download" // saved as a file
)

// Actions lists every action.
var Actions = []Action{ActionListen, ActionDownload}

// ParseAction reads an action's name.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		if string(a) == s {
			return a, nil
		}
	}
	return ActionUnknown, fmt.Errorf("unknown action %q", s)
}

func (a Action) String() string {
	if a == ActionUnknown {
		return "unknown"
	}
	return string(a)
}

// AccessEntry is one access to a recording's audio.
type AccessEntry struct {
	ID          int64     `json:"id"`
	RecordingID ID        `json:"recording_id"`
	UserID      int64     `json:"user_id"`
	Login       string    `json:"login,omitempty"`
	Purpose     Purpose   `json:"purpose"`
	Action      Action    `json:"action"`
	Ranges      string    `json:"ranges,omitempty"` // the Range header; empty for the whole file
	At          time.Time `json:"at"`
	ClientIP    string    `json:"client_ip,omitempty"`
	UserAgent   string    `json:"user_agent,omitempty"`
}

// Bounds of what an access log entry keeps of the request.
const (
	maxRangesLogged    = 1000
	maxUserAgentLogged = 512
)

// LogAccess writes an access to the log and returns its id. The write is committed when it
// returns: the audio may be served only after it succeeded.
func (a *Archive) LogAccess(ctx context.Context, e AccessEntry) (int64, error) {
	if _, err := ParsePurpose(string(e.Purpose)); err != nil {
		return 0, &InvalidError{"purpose", err.Error()}
	}
	if _, err := ParseAction(string(e.Action)); err != nil {
		return 0, &InvalidError{"action", err.Error()}
	}
	if e.At.IsZero() {
		e.At = a.o.Now()
	}
	var ip *string
	if addr, err := netip.ParseAddr(e.ClientIP); err == nil {
		s := addr.Unmap().String()
		ip = &s
	}
	var ranges *string
	if e.Ranges != "" {
		s := truncate(e.Ranges, maxRangesLogged)
		ranges = &s
	}
	var id int64
	// In a transaction of its own (a savepoint when a.db is a transaction): a failed write leaves
	// nothing behind and is reported.
	err := pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO recording_access_log (recording_id, user_id, purpose, action, ranges, at,
			client_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7::inet, $8) RETURNING id`,
			int64(e.RecordingID), e.UserID, string(e.Purpose), string(e.Action), ranges, e.At, ip,
			truncate(e.UserAgent, maxUserAgentLogged)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("recording: logging access to %d: %w", e.RecordingID, err)
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

const accessColumns = `l.id, l.recording_id, l.user_id, coalesce(u.login, ''), l.purpose, l.action, coalesce(l.ranges, ''),
	l.at, coalesce(host(l.client_ip), ''), l.user_agent`

func scanAccess(r pgx.CollectableRow) (AccessEntry, error) {
	var e AccessEntry
	var purpose, action string
	err := r.Scan(&e.ID, &e.RecordingID, &e.UserID, &e.Login, &purpose, &action, &e.Ranges, &e.At, &e.ClientIP, &e.UserAgent)
	e.Purpose, e.Action = Purpose(purpose), Action(action)
	return e, err
}

// AccessLog returns every access to a recording, oldest first.
func (a *Archive) AccessLog(ctx context.Context, id ID) ([]AccessEntry, error) {
	if _, err := a.Get(ctx, id); err != nil {
		return nil, err
	}
	rows, err := a.db.Query(ctx, `SELECT `+accessColumns+` FROM recording_access_log l LEFT JOIN users u ON u.id = l.user_id
		WHERE l.recording_id = $1 ORDER BY l.at, l.id`, int64(id))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanAccess)
}

// ErrNoUser is returned for a report on a user that does not exist.
var ErrNoUser = errors.New("recording: no such user")

// UserAccess returns a user's accesses to recordings in [since, until) (zero: unbounded), oldest
// first, at most limit.
func (a *Archive) UserAccess(ctx context.Context, user int64, since, until time.Time, limit int) ([]AccessEntry, error) {
	var exists bool
	if err := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, user).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, ErrNoUser
	}
	var s, u *time.Time
	if !since.IsZero() {
		s = &since
	}
	if !until.IsZero() {
		u = &until
	}
	rows, err := a.db.Query(ctx, `SELECT `+accessColumns+` FROM recording_access_log l LEFT JOIN users u ON u.id = l.user_id
		WHERE l.user_id = $1 AND ($2::timestamptz IS NULL OR l.at >= $2) AND ($3::timestamptz IS NULL OR l.at < $3)
		ORDER BY l.at, l.id LIMIT $4`, user, s, u, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanAccess)
}
