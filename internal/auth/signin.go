package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// SignIn checks a login and password and starts a session, returning its principal and token
// (the cookie's value). Every failure — unknown login, wrong password, disabled user — is
// ErrInvalidCredentials after the same work (a password check against a dummy hash when there
// is no user), so the answer does not tell whether a login exists. Too many failures for the
// login or the client's address are a *ThrottledError, answered without checking the password.
func (s *Service) SignIn(ctx context.Context, login, password string, c Client) (Principal, string, error) {
	a, err := s.checkCredentials(ctx, normalizeLogin(login), password, c.Addr, "sign_in")
	if err != nil {
		return Principal{}, "", err
	}
	token, sess, err := s.createSession(ctx, a.principal.UserID, c)
	if err != nil {
		return Principal{}, "", err
	}
	p := a.principal
	p.SessionID = sess.ID
	s.o.Log.Info("signed in", "user_id", p.UserID, "login", p.Login, "session_id", sess.ID, "ip", c.Addr)
	return p, token, nil
}

// ChangePassword changes a signed-in user's password: it checks the new one against the policy
// and the old one like a sign-in (throttled the same way), stores the new one, revokes every
// session of the user, and starts a new session for the caller, returning its token.
func (s *Service) ChangePassword(ctx context.Context, p Principal, oldPassword, newPassword string, c Client) (Principal, string, error) {
	if err := CheckPassword("new_password", p.Login, newPassword); err != nil {
		return Principal{}, "", err
	}
	a, err := s.checkCredentials(ctx, p.Login, oldPassword, c.Addr, "password_change")
	if err != nil {
		return Principal{}, "", err
	}
	if a.principal.UserID != p.UserID {
		return Principal{}, "", ErrInvalidCredentials // the login was given to someone else meanwhile
	}
	if _, err := s.SetPassword(ctx, p.UserID, newPassword); err != nil {
		return Principal{}, "", err
	}
	token, sess, err := s.createSession(ctx, p.UserID, c)
	if err != nil {
		return Principal{}, "", err
	}
	np := a.principal
	np.SessionID = sess.ID
	return np, token, nil
}

// attempt is one check of a password: the attempt's row and the user it names, if any.
type attempt struct {
	id        int64
	found     bool
	disabled  bool
	hash      string
	principal Principal
}

// normalizeLogin is the login as sign-in looks it up and throttling counts it: trimmed, lower
// case, at most 64 characters (longer logins do not exist).
func normalizeLogin(login string) string {
	login = strings.ToLower(strings.TrimSpace(cleanText(login)))
	if utf8.RuneCountInString(login) > 64 {
		login = string([]rune(login)[:64])
	}
	return login
}

// throttleKey is the address throttling counts: an IPv4 address, or an IPv6 client's /64 (one
// host usually has a whole /64 to pick addresses from).
func throttleKey(addr netip.Addr) (netip.Prefix, bool) {
	if !addr.IsValid() {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32), true
	}
	p, err := addr.WithZone("").Prefix(64)
	return p, err == nil
}

// attemptLockClass is the first key of the advisory locks that serialise the attempts of one
// login or one address, so that concurrent guesses see each other.
const attemptLockClass = 0x4b61

// checkCredentials records an attempt and checks the password. It returns the attempt for the
// right password of an enabled user, and otherwise ErrInvalidCredentials or a *ThrottledError.
func (s *Service) checkCredentials(ctx context.Context, login, password string, addr netip.Addr, purpose string) (attempt, error) {
	a, err := s.beginAttempt(ctx, login, addr, purpose)
	var te *ThrottledError
	if errors.As(err, &te) {
		s.o.Log.Warn("sign-in throttled", "login", login, "ip", addr, "retry_after", retrySeconds(te.RetryAfter))
		return attempt{}, err
	}
	if err != nil {
		return attempt{}, err
	}
	ok, rehash, err := s.verify(ctx, password, a.hash)
	if err != nil {
		return attempt{}, err // the check did not finish: the attempt stays pending, a failure
	}
	outcome := "ok"
	switch {
	case !a.found:
		outcome = "unknown_login"
	case !ok:
		outcome = "wrong_password"
	case a.disabled:
		outcome = "disabled"
	}
	if _, uerr := s.pool.Exec(context.WithoutCancel(ctx), `UPDATE auth_attempts SET outcome = $2 WHERE id = $1`, a.id, outcome); uerr != nil {
		s.o.Log.Error("sign-in attempt not recorded", "login", login, "outcome", outcome, "err", uerr)
	}
	if outcome != "ok" {
		s.o.Log.Info("sign-in failed", "login", login, "ip", addr, "purpose", purpose, "outcome", outcome)
		return attempt{}, ErrInvalidCredentials
	}
	if rehash {
		s.rehash(ctx, a, password)
	}
	return a, nil
}

// rehash replaces a user's hash made with other parameters than the service's, keeping the
// password (so no session is revoked).
func (s *Service) rehash(ctx context.Context, a attempt, password string) {
	hash, err := s.hash(ctx, password)
	if err == nil {
		_, err = s.pool.Exec(ctx, `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`,
			a.principal.UserID, a.hash, hash)
	}
	if err != nil {
		s.o.Log.Warn("password not rehashed", "user_id", a.principal.UserID, "err", err)
	}
}

// beginAttempt refuses a throttled attempt, or looks up the login's user and records the
// attempt as pending, under advisory locks on the login and the address.
func (s *Service) beginAttempt(ctx context.Context, login string, addr netip.Addr, purpose string) (attempt, error) {
	now := s.now()
	t := s.o.Throttle
	since := now.Add(-(t.Window + t.MaxLock))
	ipKey, hasIP := throttleKey(addr)
	var ipArg any
	if hasIP {
		ipArg = ipKey
	}
	var a attempt
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Always the login's lock first, then the address's: no two attempts wait on each other in a cycle.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, attemptLockClass, "login:"+login); err != nil {
			return err
		}
		if hasIP {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, attemptLockClass, "ip:"+ipKey.String()); err != nil {
				return err
			}
		}
		// A login's failures count from its last successful sign-in; an address's do not (an
		// attacker's own account must not reset the count of their guesses at others').
		loginFails, err := failures(ctx, tx, `SELECT at, outcome = 'ok' FROM auth_attempts
			WHERE login = $1 AND at > $2 ORDER BY at`, login, since)
		if err != nil {
			return err
		}
		var ipFails []time.Time
		if hasIP {
			if ipFails, err = failures(ctx, tx, `SELECT at, false FROM auth_attempts
				WHERE ip = $1 AND at > $2 AND outcome <> 'ok' ORDER BY at`, ipKey, since); err != nil {
				return err
			}
		}
		until := lockedUntil(loginFails, t.LoginFailures, t)
		if u := lockedUntil(ipFails, t.IPFailures, t); u.After(until) {
			until = u
		}
		if until.After(now) {
			return &ThrottledError{RetryAfter: until.Sub(now)}
		}
		var roles []string
		err = tx.QueryRow(ctx, `SELECT id, login, display_name, roles, coalesce(unit, ''), password_hash, disabled
			FROM users WHERE login = $1`, login).
			Scan(&a.principal.UserID, &a.principal.Login, &a.principal.Name, &roles, &a.principal.Unit, &a.hash, &a.disabled)
		switch {
		case err == nil:
			a.found = true
			a.principal.Roles = parseRoles(roles)
		case errors.Is(err, pgx.ErrNoRows):
		default:
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO auth_attempts (at, login, ip, purpose, outcome)
			VALUES ($1, $2, $3, $4, 'pending') RETURNING id`, now, login, ipArg, purpose).Scan(&a.id)
	})
	var te *ThrottledError
	if err != nil && !errors.As(err, &te) {
		return attempt{}, fmt.Errorf("auth: sign-in attempt: %w", err)
	}
	return a, err
}

// failures reads (at, ok) rows in time order and returns the failures after the last success.
func failures(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]time.Time, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	var at time.Time
	var ok bool
	_, err = pgx.ForEachRow(rows, []any{&at, &ok}, func() error {
		if ok {
			out = out[:0]
		} else {
			out = append(out, at)
		}
		return nil
	})
	return out, err
}

// lockedUntil is when a key with the failures fails (in time order) may try again; the zero
// time if it is not locked. A key is locked once it has limit failures within t.Window of its
// latest, for t.BaseLock after that latest failure, doubled for each failure beyond limit, at
// most t.MaxLock.
func lockedUntil(fails []time.Time, limit int, t ThrottleOptions) time.Time {
	if len(fails) < limit {
		return time.Time{}
	}
	last := fails[len(fails)-1]
	n := 0
	for _, f := range fails {
		if !f.Before(last.Add(-t.Window)) {
			n++
		}
	}
	if n < limit {
		return time.Time{}
	}
	d := t.BaseLock
	for i := limit; i < n && d < t.MaxLock; i++ {
		d *= 2
	}
	return last.Add(min(d, t.MaxLock))
}
