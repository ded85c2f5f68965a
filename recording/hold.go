package recording

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/auth"
)

// MaxHoldReason bounds a hold's reason.
const MaxHoldReason = 2000

// canHold reports whether a user may set and clear legal holds.
func canHold(p auth.Principal) bool { return p.Has(auth.RoleSupervisor, auth.RoleAdministrator) }

// SetHold puts a recording under legal hold until until: the purge keeps its file (and its
// ticket's personal data) past the retention date while the hold lasts. Only a supervisor or an
// administrator may, with a reason. Setting a hold on a held recording replaces the hold. Every
// change is kept in recording_hold_log.
func (a *Archive) SetHold(ctx context.Context, by auth.Principal, id ID, reason string, until time.Time) (Recording, error) {
	if !canHold(by) {
		return Recording{}, ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Recording{}, &InvalidError{"reason", "missing: say why the recording must be kept"}
	case len(reason) > MaxHoldReason:
		return Recording{}, &InvalidError{"reason", fmt.Sprintf("longer than %d bytes", MaxHoldReason)}
	case until.IsZero():
		return Recording{}, &InvalidError{"until", "missing: until when the recording must be kept"}
	case !until.After(a.o.Now()):
		return Recording{}, &InvalidError{"until", "must be in the future"}
	}
	var out Recording
	err := pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		cur, err := scanRecording(tx.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE id = $1 FOR UPDATE`, int64(id)))
		if err != nil {
			return err
		}
		if cur.State == StatePurged {
			return fmt.Errorf("%w: recording %d cannot be held", ErrPurged, id)
		}
		out, err = scanRecording(tx.QueryRow(ctx, `UPDATE recordings SET hold_by = $2, hold_reason = $3, hold_until = $4,
			hold_set_at = $5 WHERE id = $1 RETURNING `+recColumns, int64(id), by.UserID, reason, until, a.o.Now()))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recording_hold_log (recording_id, action, by_user_id, reason, until, at)
			VALUES ($1, 'set', $2, $3, $4, $5)`, int64(id), by.UserID, reason, until, a.o.Now())
		return err
	})
	if err != nil {
		return Recording{}, err
	}
	a.log.Info("legal hold set", "recording", id, "by", by.UserID, "until", until)
	return out, nil
}

// ClearHold lifts a recording's legal hold; the purge then treats it by its retention date.
func (a *Archive) ClearHold(ctx context.Context, by auth.Principal, id ID, reason string) (Recording, error) {
	if !canHold(by) {
		return Recording{}, ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > MaxHoldReason {
		return Recording{}, &InvalidError{"reason", fmt.Sprintf("longer than %d bytes", MaxHoldReason)}
	}
	var out Recording
	err := pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		cur, err := scanRecording(tx.QueryRow(ctx, `SELECT `+recColumns+` FROM recordings WHERE id = $1 FOR UPDATE`, int64(id)))
		if err != nil {
			return err
		}
		if cur.Hold == nil {
			out = cur
			return nil
		}
		out, err = scanRecording(tx.QueryRow(ctx, `UPDATE recordings SET hold_by = NULL, hold_reason = NULL,
			hold_until = NULL, hold_set_at = NULL WHERE id = $1 RETURNING `+recColumns, int64(id)))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recording_hold_log (recording_id, action, by_user_id, reason, at)
			VALUES ($1, 'clear', $2, $3, $4)`, int64(id), by.UserID, reason, a.o.Now())
		return err
	})
	if err != nil {
		return Recording{}, err
	}
	a.log.Info("legal hold cleared", "recording", id, "by", by.UserID)
	return out, nil
}
