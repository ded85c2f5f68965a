package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kontakt/internal/auth"
	"kontakt/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

// userEnv points KONTAKT_CONFIG at a full configuration whose database is a test database.
func userEnv(t *testing.T) *auth.Service {
	t.Helper()
	pool := testenv.DB(t, "kontakt_cli")
	cfg := filepath.Join(t.TempDir(), "kontakt.json")
	body, _ := json.Marshal(map[string]any{
		"ari":      map[string]any{"password": "not-used"},
		"database": map[string]any{"url": testenv.Postgres(t).URL("kontakt_cli")},
	})
	if err := os.WriteFile(cfg, body, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KONTAKT_CONFIG", cfg)
	return auth.NewService(pool, auth.Options{})
}

// runUser runs kontakt with password as standard input.
func runUser(t *testing.T, password string, args ...string) (int, string, string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(password)
	defer func() { stdin = old }()
	return runCmd(append([]string{"user"}, args...)...)
}

func TestUserCommand(t *testing.T) {
	svc := userEnv(t)
	ctx := context.Background()
	signIn := func(login, password string) error {
		_, _, err := svc.SignIn(ctx, login, password, auth.Client{Addr: netip.MustParseAddr("192.0.2.50")})
		return err
	}

	// The first administrator.
	code, out, errOut := runUser(t, "pierwszy administrator\n", "add", "--login", "admin", "--name", "Administrator", "--roles", "administrator")
	if code != 0 || !strings.Contains(out, "user admin (Administrator) added with roles administrator") {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	if err := signIn("admin", "pierwszy administrator"); err != nil {
		t.Fatalf("the administrator cannot sign in: %v", err)
	}

	// Mistakes, each with a clear message.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"pierwszy administrator\n", []string{"add", "--login", "admin", "--name", "Again", "--roles", "consultant"}, `user "admin" already exists`},
		{"hasło konsultanta\n", []string{"add", "--login", "anna", "--name", "Anna", "--roles", "consultant,boss,chief"}, `unknown role "boss", "chief"`},
		{"krótkie\n", []string{"add", "--login", "anna", "--name", "Anna", "--roles", "consultant"}, "weak password: the password must have at least 12 characters"},
		{"anna.kowalska\n", []string{"add", "--login", "anna.kowalska", "--name", "Anna", "--roles", "consultant"}, "weak password: the password must not be the login"},
		{"hasło pracownika\n", []string{"add", "--login", "zenon", "--name", "Zenon", "--roles", "unit_worker"}, "unit is required for a unit worker"},
		{"hasło konsultanta\n", []string{"add", "--login", "Anna K", "--name", "Anna", "--roles", "consultant"}, "login must be 2 to 64 of the characters"},
		{"", []string{"add", "--login", "anna", "--name", "Anna", "--roles", "consultant"}, "no password on standard input"},
		{"hasło konsultanta\n", []string{"add", "--login", "anna", "--roles", "consultant"}, "missing --name"},
		{"", []string{"add", "--login", "anna", "--name", "Anna", "--roles", "consultant", "--password", "on the command line"}, "flag provided but not defined: -password"},
		{"", []string{"passwd", "--login", "nobody"}, `no user "nobody"`},
		{"", []string{"roles", "--login", "admin", "--set", "root"}, `unknown role "root"`},
		{"", []string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{"", nil, "a subcommand is needed"},
	} {
		code, _, errOut := runUser(t, c.stdin, c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("kontakt user %s: exit %d, stderr %q; want %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}

	// A consultant and broker, with the password from a file.
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("hasło z pliku 123\r\nignored\n"), 0o600)
	if code, out, errOut := runUser(t, "", "add", "--login", "anna", "--name", "Anna Kowalska", "--roles", "consultant, broker", "--password-file", pwFile); code != 0 {
		t.Fatalf("add with a password file: %d %s %s", code, out, errOut)
	}
	if err := signIn("anna", "hasło z pliku 123"); err != nil {
		t.Fatal(err)
	}
	// A unit worker with a unit.
	if code, _, errOut := runUser(t, "hasło pracownika\n", "add", "--login", "zenon", "--name", "Zenon", "--roles", "unit_worker", "--unit", "zdm"); code != 0 {
		t.Fatal(errOut)
	}

	// passwd signs the user out everywhere.
	_, token, err := svc.SignIn(ctx, "anna", "hasło z pliku 123", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runUser(t, "nowe hasło Anny\n", "passwd", "--login", "anna"); code != 0 || !strings.Contains(out, "2 session(s) signed out") { // the sign-in check above, and token
		t.Fatalf("passwd: %d %q %q", code, out, errOut)
	}
	if _, err := svc.Authenticate(ctx, token); !errors.Is(err, auth.ErrNoSession) {
		t.Fatal("a session survived kontakt user passwd")
	}
	if err := signIn("anna", "nowe hasło Anny"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runUser(t, "short\n", "passwd", "--login", "anna"); code != 1 || !strings.Contains(errOut, "at least 12 characters") {
		t.Fatalf("weak passwd: %d %s", code, errOut)
	}

	// roles
	if code, out, _ := runUser(t, "", "roles", "--login", "anna", "--set", "supervisor,consultant"); code != 0 || !strings.Contains(out, "anna now has roles consultant,supervisor") {
		t.Fatalf("roles: %d %s", code, out)
	}
	if code, _, errOut := runUser(t, "", "roles", "--login", "anna", "--set", "unit_worker"); code != 1 || !strings.Contains(errOut, "unit is required for a unit worker") {
		t.Fatalf("unit worker without a unit: %d %s", code, errOut)
	}
	if code, out, _ := runUser(t, "", "roles", "--login", "anna", "--set", "unit_worker", "--unit", "mpo"); code != 0 || !strings.Contains(out, "unit_worker") {
		t.Fatalf("roles with a unit: %d %s", code, out)
	}

	// disable, list, enable
	if code, out, _ := runUser(t, "", "disable", "--login", "zenon"); code != 0 || !strings.Contains(out, "zenon disabled") {
		t.Fatalf("disable: %d %s", code, out)
	}
	if err := signIn("zenon", "hasło pracownika"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("a disabled user signed in: %v", err)
	}
	code, out, _ = runUser(t, "", "list")
	if code != 0 {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "LOGIN") {
		t.Fatalf("list:\n%s", out)
	}
	for i, want := range [][]string{
		{"admin", "Administrator", "administrator", "-", "active"},
		{"anna", "Anna Kowalska", "unit_worker", "mpo", "active"},
		{"zenon", "Zenon", "unit_worker", "zdm", "disabled", "never"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("list line %q lacks %q", lines[i+1], w)
			}
		}
	}
	code, out, _ = runUser(t, "", "list", "--json")
	var users []auth.User
	if err := json.Unmarshal([]byte(out), &users); code != 0 || err != nil || len(users) != 3 || !users[2].Disabled {
		t.Fatalf("list --json: %d %v %s", code, err, out)
	}
	if code, out, _ := runUser(t, "", "enable", "--login", "zenon"); code != 0 || !strings.Contains(out, "zenon enabled") {
		t.Fatalf("enable: %d %s", code, out)
	}
	if err := signIn("zenon", "hasło pracownika"); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCmd("help"); code != 0 || !strings.Contains(out, "\n  user ") {
		t.Fatalf("help does not list user:\n%s", out)
	}
}
