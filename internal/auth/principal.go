// Package auth is who is acting: users with roles, sign-in, sessions, and the principal every
// API and WebSocket handler checks.
package auth

import (
	"context"
	"fmt"
	"slices"
)

// Role is what a user may do. The set is closed; the zero value is no role.
type Role string

// The roles.
const (
	RoleUnknown       Role = ""
	RoleConsultant    Role = "consultant"    // first line: takes calls, registers tickets
	RoleBroker        Role = "broker"        // subject-matter specialist; takes escalated calls
	RoleSupervisor    Role = "supervisor"    // watches queues and agents, handles complaints
	RoleAdministrator Role = "administrator" // menus, queues, users, units, retention
	RoleUnitWorker    Role = "unit_worker"   // second line: works tickets forwarded to their unit
)

// Roles lists every role.
var Roles = []Role{RoleConsultant, RoleBroker, RoleSupervisor, RoleAdministrator, RoleUnitWorker}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return RoleUnknown, fmt.Errorf("unknown role %q (roles: consultant, broker, supervisor, administrator, unit_worker)", s)
}

func (r Role) String() string {
	if r == RoleUnknown {
		return "unknown"
	}
	return string(r)
}

// Principal is the signed-in user a request acts for.
type Principal struct {
	UserID    int64  `json:"user_id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	Roles     []Role `json:"roles"`
	Unit      string `json:"unit,omitempty"` // the unit of a unit worker
	SessionID string `json:"-"`
}

// Has reports whether the principal has any of the roles.
func (p Principal) Has(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of a request, if it is signed in.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
