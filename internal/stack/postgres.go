package stack

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Postgres is a throwaway PostgreSQL cluster listening on 127.0.0.1 and a socket in its directory.
type Postgres struct {
	Dir  string
	Port int
	cmd  *exec.Cmd
	done chan struct{}
	log  *slog.Logger
}

// StartPostgres initialises a cluster in dir (if it has none) and starts it. The superuser is
// "kontakt" with trust authentication on loopback: the cluster is for one machine's runtime only.
func StartPostgres(ctx context.Context, dir string, port int, log *slog.Logger) (*Postgres, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cred, err := serviceUser("postgres")
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := makeTraversable(dir); err != nil {
		return nil, err
	}
	if err := chownTree(dir, cred); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		log.Info("initialising postgres cluster", "dir", data)
		cmd := exec.CommandContext(ctx, filepath.Join(PostgresBin, "initdb"), "-D", data, "-U", "kontakt",
			"--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("stack: initdb: %v: %s", err, out)
		}
	}
	logf, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if cred != nil {
		os.Chown(logf.Name(), int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(PostgresBin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=256MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	// A process group of its own: a Ctrl-C in the terminal reaches kontakt, which stops Postgres in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("stack: start postgres: %w", err)
	}
	p := &Postgres{Dir: dir, Port: port, cmd: cmd, done: make(chan struct{}), log: log}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	err = waitFor(ctx, "postgres", 30*time.Second, p.done, func() error {
		out, err := exec.Command(filepath.Join(PostgresBin, "pg_isready"), "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-q").CombinedOutput()
		if err != nil {
			return fmt.Errorf("pg_isready: %v %s", err, out)
		}
		return nil
	})
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("%w (see %s)", err, logf.Name())
	}
	if err := p.CreateDatabase(ctx, "kontakt"); err != nil {
		p.Stop()
		return nil, err
	}
	log.Info("postgres ready", "port", port)
	return p, nil
}

// URL returns the connection URL of database db.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://kontakt@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// CreateDatabase creates a database if it does not exist.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	psql := func(sql string) ([]byte, error) {
		return exec.CommandContext(ctx, "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
			p.URL("postgres"), "-c", sql).CombinedOutput()
	}
	out, err := psql(fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", name))
	if err != nil {
		return fmt.Errorf("stack: psql: %v: %s", err, out)
	}
	if len(out) > 0 {
		return nil
	}
	if out, err := psql(fmt.Sprintf(`CREATE DATABASE "%s"`, name)); err != nil {
		return fmt.Errorf("stack: create database %s: %v: %s", name, err, out)
	}
	return nil
}

// Stop shuts the server down (fast mode) and waits for it.
func (p *Postgres) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}
