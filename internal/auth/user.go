package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// User is a user row.
type User struct {
	ID       int64  `json:"id"`
	Login    string `json:"login"`
	Name     string `json:"name"`
	Roles    []Role `json:"roles"`
	Unit     string `json:"unit,omitempty"`
	Disabled bool   `json:"disabled"`
	// HasPassword is false for a user who cannot sign in until a password is set.
	HasPassword       bool       `json:"has_password"`
	CreatedAt         time.Time  `json:"created_at"`
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
	// LastSignIn is when the user's latest session began.
	LastSignIn *time.Time `json:"last_sign_in,omitempty"`
}

// NewUser is a user to create.
type NewUser struct {
	Login    string
	Name     string
	Roles    []Role
	Unit     string // required for a unit worker
	Password string
}

var loginPattern = regexp.MustCompile(`^[a-z0-9._-]{2,64}$`)

const (
	maxNameLen = 200 // characters
	maxUnitLen = 100
)

func checkLogin(login string) *FieldError {
	if !loginPattern.MatchString(login) {
		return &FieldError{"login", "must be 2 to 64 of the characters a-z 0-9 . _ - (lower case)"}
	}
	return nil
}

func checkName(name string) *FieldError {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return &FieldError{"name", "is required"}
	case n > maxNameLen || !utf8.ValidString(name):
		return &FieldError{"name", fmt.Sprintf("must be valid text of at most %d characters", maxNameLen)}
	}
	return nil
}

// normalizeRoles checks that roles are known and not empty, and returns them without duplicates
// in the order of Roles.
func normalizeRoles(roles []Role) ([]Role, *FieldError) {
	if len(roles) == 0 {
		return nil, &FieldError{"roles", "at least one role is required (consultant, broker, supervisor, administrator, unit_worker)"}
	}
	for _, r := range roles {
		if _, err := ParseRole(string(r)); err != nil {
			return nil, &FieldError{"roles", err.Error()}
		}
	}
	var out []Role
	for _, r := range Roles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func checkUnit(roles []Role, unit string) *FieldError {
	switch {
	case utf8.RuneCountInString(unit) > maxUnitLen || !utf8.ValidString(unit):
		return &FieldError{"unit", fmt.Sprintf("must be valid text of at most %d characters", maxUnitLen)}
	case unit == "" && slices.Contains(roles, RoleUnitWorker):
		return &FieldError{"unit", "is required for a unit worker"}
	}
	return nil
}

func invalid(fields ...*FieldError) error {
	var fs []FieldError
	for _, f := range fields {
		if f != nil {
			fs = append(fs, *f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return &ValidationError{Code: CodeInvalidUser, Fields: fs}
}

func roleStrings(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

func parseRoles(ss []string) []Role {
	out := make([]Role, 0, len(ss))
	for _, s := range ss {
		if r, err := ParseRole(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// CreateUser checks u (login, name, roles, unit, the password policy) and creates the user.
// A taken login is ErrDuplicateLogin; fields breaking a rule are a *ValidationError.
func (s *Service) CreateUser(ctx context.Context, u NewUser) (User, error) {
	u.Name, u.Unit = strings.TrimSpace(u.Name), strings.TrimSpace(u.Unit)
	roles, rerr := normalizeRoles(u.Roles)
	if err := invalid(checkLogin(u.Login), checkName(u.Name), rerr, checkUnit(roles, u.Unit)); err != nil {
		return User{}, err
	}
	if err := CheckPassword("password", u.Login, u.Password); err != nil {
		return User{}, err
	}
	hash, err := s.hash(ctx, u.Password)
	if err != nil {
		return User{}, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO users (login, display_name, password_hash, roles, unit, created_at, password_changed_at)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $6) RETURNING id`,
		u.Login, u.Name, hash, roleStrings(roles), u.Unit, s.now()).Scan(&id)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("user %q: %w", u.Login, ErrDuplicateLogin)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: create user %q: %w", u.Login, err)
	}
	s.o.Log.Info("user created", "user_id", id, "login", u.Login, "roles", roles)
	return s.UserByID(ctx, id)
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func isCheckViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && pe.ConstraintName == constraint
}

const userColumns = `u.id, u.login, u.display_name, u.roles, coalesce(u.unit, ''), u.disabled, u.password_hash <> '',
	u.created_at, u.password_changed_at,
	(SELECT max(created_at) FROM sessions WHERE user_id = u.id)`

func scanUser(row pgx.Row) (User, error) {
	var u User
	var roles []string
	err := row.Scan(&u.ID, &u.Login, &u.Name, &roles, &u.Unit, &u.Disabled, &u.HasPassword, &u.CreatedAt,
		&u.PasswordChangedAt, &u.LastSignIn)
	u.Roles = parseRoles(roles)
	return u, err
}

func (s *Service) userWhere(ctx context.Context, where string, arg any) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

// UserByID returns a user; ErrNotFound if there is none.
func (s *Service) UserByID(ctx context.Context, id int64) (User, error) {
	return s.userWhere(ctx, `u.id = $1`, id)
}

// UserByLogin returns a user; ErrNotFound if there is none.
func (s *Service) UserByLogin(ctx context.Context, login string) (User, error) {
	u, err := s.userWhere(ctx, `u.login = $1`, login)
	if errors.Is(err, ErrNotFound) {
		return u, fmt.Errorf("user %q: %w", login, err)
	}
	return u, err
}

// Users lists every user by login.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.login`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
}

// SetPassword checks password against the policy, stores its hash and revokes every session of
// the user (a changed password signs the user out everywhere). It returns how many sessions it
// revoked.
func (s *Service) SetPassword(ctx context.Context, id int64, password string) (revoked int, err error) {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := CheckPassword("password", u.Login, password); err != nil {
		return 0, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return 0, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, id, hash, now); err != nil {
			return err
		}
		revoked, err = revokeUserSessions(ctx, tx, id, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("auth: set password of %q: %w", u.Login, err)
	}
	s.o.Log.Info("password changed", "user_id", id, "login", u.Login, "sessions_revoked", revoked)
	return revoked, nil
}

// SetRoles replaces a user's roles. Taking the unit worker role needs a unit (SetUnit first).
// The change applies to the user's next request: sessions are not revoked.
func (s *Service) SetRoles(ctx context.Context, id int64, roles []Role) error {
	roles, ferr := normalizeRoles(roles)
	if err := invalid(ferr); err != nil {
		return err
	}
	return s.updateUser(ctx, id, `roles = $2`, roleStrings(roles))
}

// SetUnit sets a user's unit ("" clears it, which a unit worker may not).
func (s *Service) SetUnit(ctx context.Context, id int64, unit string) error {
	unit = strings.TrimSpace(unit)
	if err := invalid(checkUnit(nil, unit)); err != nil {
		return err
	}
	return s.updateUser(ctx, id, `unit = NULLIF($2, '')`, unit)
}

func (s *Service) updateUser(ctx context.Context, id int64, set string, arg any) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET `+set+` WHERE id = $1`, id, arg)
	if isCheckViolation(err, "users_unit_worker_has_unit") {
		return invalid(&FieldError{"unit", "is required for a unit worker"})
	}
	if err != nil {
		return fmt.Errorf("auth: update user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Disable stops a user from signing in and revokes their sessions; it returns how many.
func (s *Service) Disable(ctx context.Context, id int64) (revoked int, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET disabled = true WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		revoked, err = revokeUserSessions(ctx, tx, id, s.now())
		return err
	})
	if err != nil {
		return 0, err
	}
	s.o.Log.Info("user disabled", "user_id", id, "sessions_revoked", revoked)
	return revoked, nil
}

// Enable lets a disabled user sign in again.
func (s *Service) Enable(ctx context.Context, id int64) error {
	return s.updateUser(ctx, id, `disabled = $2`, false)
}
