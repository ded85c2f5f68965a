package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"kontakt/internal/auth"
	"kontakt/internal/store"
)

func init() {
	commands["user"] = command{"users and their roles: add (the first administrator), passwd, roles, disable, list", cmdUser}
}

// stdin is where passwords are read from; tests replace it.
var stdin io.Reader = os.Stdin

const userUsage = `user SUBCOMMAND [flags]

  add     --login L --name N --roles R1,R2 [--unit U] [--password-file F]
  passwd  --login L [--password-file F]       (signs the user out everywhere)
  roles   --login L --set R1,R2 [--unit U]
  disable --login L                           (signs the user out everywhere)
  enable  --login L
  list    [--json]

Every subcommand takes -config FILE (default $KONTAKT_CONFIG). Roles: consultant, broker,
supervisor, administrator, unit_worker (a unit worker needs --unit). A password is read from
--password-file or standard input (its first line), never from a flag; at a terminal it is
asked for twice without echo. Passwords have at least 12 characters and are not the login.

The first administrator:
  kontakt user add --login admin --name "Administrator" --roles administrator
`

type userCmd struct {
	usage string
	run   func(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error
}

var userCommands = map[string]userCmd{
	"add":     {"user add --login L --name N --roles R1,R2 [--unit U] [--password-file F] [-config FILE]", userAdd},
	"passwd":  {"user passwd --login L [--password-file F] [-config FILE]", userPasswd},
	"roles":   {"user roles --login L --set R1,R2 [--unit U] [-config FILE]", userRoles},
	"disable": {"user disable --login L [-config FILE]", userDisable},
	"enable":  {"user enable --login L [-config FILE]", userEnable},
	"list":    {"user list [--json] [-config FILE]", userList},
}

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, "Usage: kontakt "+userUsage)
		if len(args) == 0 {
			return errors.New("a subcommand is needed (add, passwd, roles, disable, enable, list)")
		}
		return flag.ErrHelp
	}
	c, ok := userCommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown subcommand %q (add, passwd, roles, disable, enable, list)", args[0])
	}
	fs := flagSet("user "+args[0], stderr, c.usage)
	return c.run(ctx, fs, args[1:], stdout, stderr)
}

// userFlags are the flags the subcommands share.
type userFlags struct {
	config, login *string
}

func commonFlags(fs *flag.FlagSet, withLogin bool) userFlags {
	f := userFlags{config: fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")}
	if withLogin {
		f.login = fs.String("login", "", "the user's login")
	}
	return f
}

// parse parses the flags, refusing leftover arguments and missing required flags.
func parse(fs *flag.FlagSet, args []string, required map[string]*string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags come as --name value)", fs.Arg(0))
	}
	var missing []string
	fs.VisitAll(func(f *flag.Flag) {
		if p, ok := required[f.Name]; ok && *p == "" {
			missing = append(missing, "--"+f.Name)
		}
	})
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// openAuth connects to the configured database, brings its schema up to date (so that the first
// administrator can be added before kontakt serve ever ran), and returns the auth service.
func openAuth(ctx context.Context, configPath string) (*auth.Service, func(), error) {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return nil, nil, err
	}
	pool, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return nil, nil, err
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return auth.NewService(pool, auth.Options{}), pool.Close, nil
}

func parseRoles(s string) ([]auth.Role, error) {
	var roles []auth.Role
	var bad []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		r, err := auth.ParseRole(name)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q", name))
			continue
		}
		roles = append(roles, r)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("unknown role %s (roles: consultant, broker, supervisor, administrator, unit_worker)", strings.Join(bad, ", "))
	}
	if len(roles) == 0 {
		return nil, errors.New("no roles given (roles: consultant, broker, supervisor, administrator, unit_worker)")
	}
	return roles, nil
}

// userError words the auth package's errors for the command line.
func userError(login string, err error) error {
	var ve *auth.ValidationError
	switch {
	case errors.Is(err, auth.ErrDuplicateLogin):
		return fmt.Errorf("user %q already exists (change it with kontakt user passwd/roles)", login)
	case errors.Is(err, auth.ErrNotFound):
		return fmt.Errorf("no user %q (kontakt user list shows them)", login)
	case errors.As(err, &ve) && ve.Code == auth.CodeWeakPassword:
		return fmt.Errorf("weak password: the %s", ve.Error())
	case errors.As(err, &ve):
		return fmt.Errorf("refused: %s", ve.Error())
	}
	return err
}

func userAdd(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	f := commonFlags(fs, true)
	name := fs.String("name", "", "the user's display name, e.g. \"Anna Kowalska\"")
	rolesFlag := fs.String("roles", "", "comma-separated roles: consultant, broker, supervisor, administrator, unit_worker")
	unit := fs.String("unit", "", "the unit of a unit worker (the unit's code)")
	pwFile := fs.String("password-file", "", "read the password from this file's first line instead of standard input")
	if err := parse(fs, args, map[string]*string{"login": f.login, "name": name, "roles": rolesFlag}); err != nil {
		return err
	}
	roles, err := parseRoles(*rolesFlag)
	if err != nil {
		return err
	}
	svc, done, err := openAuth(ctx, *f.config)
	if err != nil {
		return err
	}
	defer done()
	// Say so before asking for a password.
	if _, err := svc.UserByLogin(ctx, *f.login); err == nil {
		return userError(*f.login, auth.ErrDuplicateLogin)
	}
	password, err := readPassword(ctx, *pwFile, stderr)
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, auth.NewUser{Login: *f.login, Name: *name, Roles: roles, Unit: *unit, Password: password})
	if err != nil {
		return userError(*f.login, err)
	}
	fmt.Fprintf(stdout, "user %s (%s) added with roles %s\n", u.Login, u.Name, rolesText(u))
	return nil
}

func userPasswd(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	f := commonFlags(fs, true)
	pwFile := fs.String("password-file", "", "read the password from this file's first line instead of standard input")
	if err := parse(fs, args, map[string]*string{"login": f.login}); err != nil {
		return err
	}
	return withUser(ctx, f, func(svc *auth.Service, u auth.User) error {
		password, err := readPassword(ctx, *pwFile, stderr)
		if err != nil {
			return err
		}
		n, err := svc.SetPassword(ctx, u.ID, password)
		if err != nil {
			return userError(u.Login, err)
		}
		fmt.Fprintf(stdout, "password of %s changed; %d session(s) signed out\n", u.Login, n)
		return nil
	})
}

func userRoles(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	f := commonFlags(fs, true)
	set := fs.String("set", "", "the roles the user will have, comma-separated")
	unit := fs.String("unit", "", "also set the user's unit (needed to become a unit worker)")
	if err := parse(fs, args, map[string]*string{"login": f.login, "set": set}); err != nil {
		return err
	}
	roles, err := parseRoles(*set)
	if err != nil {
		return err
	}
	return withUser(ctx, f, func(svc *auth.Service, u auth.User) error {
		if *unit != "" {
			if err := svc.SetUnit(ctx, u.ID, *unit); err != nil {
				return userError(u.Login, err)
			}
		}
		if err := svc.SetRoles(ctx, u.ID, roles); err != nil {
			return userError(u.Login, err)
		}
		u, err := svc.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now has roles %s\n", u.Login, rolesText(u))
		return nil
	})
}

func userDisable(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	return userSwitch(ctx, fs, args, stdout, true)
}

func userEnable(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	return userSwitch(ctx, fs, args, stdout, false)
}

func userSwitch(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer, disable bool) error {
	f := commonFlags(fs, true)
	if err := parse(fs, args, map[string]*string{"login": f.login}); err != nil {
		return err
	}
	return withUser(ctx, f, func(svc *auth.Service, u auth.User) error {
		if !disable {
			if err := svc.Enable(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s enabled\n", u.Login)
			return nil
		}
		n, err := svc.Disable(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s disabled; %d session(s) signed out\n", u.Login, n)
		return nil
	})
}

// withUser runs fn with the service and the user named by --login.
func withUser(ctx context.Context, f userFlags, fn func(svc *auth.Service, u auth.User) error) error {
	svc, done, err := openAuth(ctx, *f.config)
	if err != nil {
		return err
	}
	defer done()
	u, err := svc.UserByLogin(ctx, *f.login)
	if err != nil {
		return userError(*f.login, err)
	}
	return fn(svc, u)
}

func userList(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	f := commonFlags(fs, false)
	asJSON := fs.Bool("json", false, "print the users as JSON")
	if err := parse(fs, args, nil); err != nil {
		return err
	}
	svc, done, err := openAuth(ctx, *f.config)
	if err != nil {
		return err
	}
	defer done()
	users, err := svc.Users(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(users)
	}
	if len(users) == 0 {
		fmt.Fprintln(stdout, "no users yet; add the first administrator with: kontakt user add --login admin --name Administrator --roles administrator")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLES\tUNIT\tSTATUS\tLAST SIGN-IN")
	for _, u := range users {
		status := "active"
		switch {
		case u.Disabled:
			status = "disabled"
		case !u.HasPassword:
			status = "no password"
		}
		last := "never"
		if u.LastSignIn != nil {
			last = u.LastSignIn.Local().Format(time.DateTime)
		}
		unit := u.Unit
		if unit == "" {
			unit = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Login, u.Name, rolesText(u), unit, status, last)
	}
	return tw.Flush()
}

func rolesText(u auth.User) string {
	names := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ",")
}

// readPassword reads a password from file's first line, or from standard input's: at a terminal
// asked for twice without echo.
func readPassword(ctx context.Context, file string, stderr io.Writer) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		pw := firstLine(string(b))
		if pw == "" {
			return "", fmt.Errorf("--password-file %s: the first line is empty", file)
		}
		return pw, nil
	}
	tty, _ := stdin.(*os.File)
	if tty != nil {
		if fi, err := tty.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			tty = nil
		}
	}
	in := bufio.NewReader(stdin)
	if tty == nil {
		line, err := readLine(ctx, in)
		if err != nil {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		if line == "" {
			return "", errors.New("no password on standard input (pipe it in, or use --password-file)")
		}
		return line, nil
	}
	if err := stty(tty, "-echo"); err != nil {
		return "", fmt.Errorf("cannot turn off echo to read the password (use --password-file): %w", err)
	}
	defer stty(tty, "echo") //nolint:errcheck
	fmt.Fprint(stderr, "Password: ")
	first, err := readLine(ctx, in)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Again: ")
	second, err := readLine(ctx, in)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two passwords differ")
	}
	return first, nil
}

// readLine reads one line (without its \n or \r\n), giving up when ctx ends (Ctrl-C).
func readLine(ctx context.Context, r *bufio.Reader) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := r.ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		ch <- result{firstLine(s), err}
	}()
	select {
	case res := <-ch:
		if res.err == io.EOF {
			return "", nil
		}
		return res.s, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

func stty(tty *os.File, arg string) error {
	cmd := exec.Command("stty", arg)
	cmd.Stdin = tty
	return cmd.Run()
}
