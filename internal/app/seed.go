package app

import (
	"context"
	"fmt"

	"kontakt/internal/auth"
	"kontakt/internal/crm"
)

// DemoUser is a user the demo creates, with the password it prints.
type DemoUser struct {
	Login, Password, Name string
	Roles                 []auth.Role
	Unit                  string
}

// DemoUsers are the demo's users. Their passwords are for a local demo only.
var DemoUsers = []DemoUser{
	{Login: "admin", Password: "demo-admin-19115", Name: "Administrator", Roles: []auth.Role{auth.RoleAdministrator, auth.RoleSupervisor}},
	{Login: "anna", Password: "demo-konsultant-1", Name: "Anna Nowak", Roles: []auth.Role{auth.RoleConsultant}},
	{Login: "piotr", Password: "demo-konsultant-2", Name: "Piotr Kowalski", Roles: []auth.Role{auth.RoleConsultant}},
	{Login: "ewa", Password: "demo-broker-0001", Name: "Ewa Wiśniewska", Roles: []auth.Role{auth.RoleBroker}},
}

// SeedDemo fills the database with the demo's users, knowledge-base articles and tickets. It is
// idempotent.
func (a *App) SeedDemo(ctx context.Context) error {
	if err := crm.SeedDemo(ctx, a.pool); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	for _, u := range DemoUsers {
		if _, err := a.Auth.UserByLogin(ctx, u.Login); err == nil {
			continue
		}
		if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Login: u.Login, Name: u.Name, Roles: u.Roles, Unit: u.Unit, Password: u.Password}); err != nil {
			return fmt.Errorf("demo user %s: %w", u.Login, err)
		}
	}
	return nil
}
