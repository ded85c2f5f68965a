package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is one signed-in browser or agent. Its ID is the hex SHA-256 of the cookie's token:
// it names the session (to revoke it, in logs) but signs nobody in.
type Session struct {
	ID         string     `json:"id"`
	UserID     int64      `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UserAgent  string     `json:"user_agent"`
	IP         netip.Addr `json:"ip"`
}

const tokenLen = 32

var tokenEncoding = base64.RawURLEncoding

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// tokenHash returns the stored id of a cookie token, or false if the token is not one Kontakt
// could have issued.
func tokenHash(token string) ([]byte, bool) {
	if len(token) != tokenEncoding.EncodedLen(tokenLen) {
		return nil, false
	}
	raw, err := tokenEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenLen {
		return nil, false
	}
	h := sha256.Sum256(raw)
	return h[:], true
}

// Client is who is signing in, as recorded with the session and counted by throttling.
type Client struct {
	Addr      netip.Addr // invalid when unknown
	UserAgent string
}

const maxUserAgent = 512

func nullableAddr(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	return a.Unmap()
}

// createSession starts a session for a user and returns its token (the cookie's value).
func (s *Service) createSession(ctx context.Context, userID int64, c Client) (string, Session, error) {
	raw := randomBytes(tokenLen)
	id := sha256.Sum256(raw)
	now := s.now()
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	sess := Session{ID: hex.EncodeToString(id[:]), UserID: userID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: s.expiry(now, now), UserAgent: ua, IP: c.Addr}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, id[:], userID, now, sess.ExpiresAt, cleanText(ua), nullableAddr(c.Addr))
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: create session: %w", err)
	}
	return tokenEncoding.EncodeToString(raw), sess, nil
}

// expiry is when a session created at created and last used at seen ends: the idle timeout
// after its last use, but never later than the absolute maximum after its creation.
func (s *Service) expiry(created, seen time.Time) time.Time {
	idle, abs := seen.Add(s.o.IdleTimeout), created.Add(s.o.MaxLifetime)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// touchEvery is how stale a session's last_seen_at may get before a request writes it again:
// sliding the expiry on every request would make every API call a database write.
func (s *Service) touchEvery() time.Duration {
	return min(time.Minute, s.o.IdleTimeout/16)
}

// Authenticate returns the principal of a session token (the kontakt_session cookie's value),
// sliding the session's expiry. A token that is malformed, unknown, expired, revoked, or whose
// user is disabled is ErrNoSession. The WebSocket upgrade calls it with the cookie; a long-lived
// socket should call it again now and then, which also keeps the session alive while it is used.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	id, ok := tokenHash(token)
	if !ok {
		return Principal{}, ErrNoSession
	}
	now := s.now()
	var p Principal
	var roles []string
	var created, seen time.Time
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.login, u.display_name, u.roles, coalesce(u.unit, ''), s.created_at, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND NOT u.disabled`, id, now).
		Scan(&p.UserID, &p.Login, &p.Name, &roles, &p.Unit, &created, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, fmt.Errorf("auth: look up session: %w", err)
	}
	p.Roles = parseRoles(roles)
	p.SessionID = hex.EncodeToString(id)
	if now.Sub(seen) >= s.touchEvery() {
		exp := s.expiry(created, now)
		if _, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3
			WHERE id = $1 AND revoked_at IS NULL AND last_seen_at < $2`, id, now, exp); err != nil {
			// The session is valid; failing to slide it only shortens it.
			s.o.Log.Warn("session not extended", "session_id", p.SessionID, "err", err)
		}
	}
	return p, nil
}

// Revoke ends one session, named by its ID (Principal.SessionID, Session.ID). Revoking an
// unknown or ended session is not an error.
func (s *Service) Revoke(ctx context.Context, sessionID string) error {
	id, err := hex.DecodeString(sessionID)
	if err != nil || len(id) != sha256.Size {
		return fmt.Errorf("auth: %q is not a session id", sessionID)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, s.now()); err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	return nil
}

// RevokeAll ends every session of a user ("sign out everywhere") and returns how many were live.
func (s *Service) RevokeAll(ctx context.Context, userID int64) (int, error) {
	n, err := revokeUserSessions(ctx, s.pool, userID, s.now())
	if err != nil {
		return 0, fmt.Errorf("auth: revoke sessions: %w", err)
	}
	s.o.Log.Info("signed out everywhere", "user_id", userID, "sessions_revoked", n)
	return n, nil
}

func revokeUserSessions(ctx context.Context, db dbtx, userID int64, now time.Time) (int, error) {
	tag, err := db.Exec(ctx, `UPDATE sessions SET revoked_at = $2
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`, userID, now)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// Sessions lists a user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at, user_agent, ip
		FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC`, userID, s.now())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var ss Session
		var id []byte
		var ip *netip.Addr
		err := r.Scan(&id, &ss.UserID, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt, &ss.UserAgent, &ip)
		ss.ID = hex.EncodeToString(id)
		if ip != nil {
			ss.IP = *ip
		}
		return ss, err
	})
}

// Purge deletes sessions that ended before t and sign-in attempts made before t (the attempts
// are the audit trail of sign-ins: keep them as long as the city's retention rule says).
func (s *Service) Purge(ctx context.Context, t time.Time) (sessions, attempts int64, err error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, t)
	if err != nil {
		return 0, 0, fmt.Errorf("auth: purge sessions: %w", err)
	}
	sessions = tag.RowsAffected()
	tag, err = s.pool.Exec(ctx, `DELETE FROM auth_attempts WHERE at < $1`, t)
	if err != nil {
		return sessions, 0, fmt.Errorf("auth: purge sign-in attempts: %w", err)
	}
	return sessions, tag.RowsAffected(), nil
}
