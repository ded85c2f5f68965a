// Package stack runs Kontakt's real components — a throwaway PostgreSQL cluster and Asterisk —
// in a project-local runtime directory on loopback, with free ports, and stops them cleanly. It
// touches no system service. `make demo`, `make test` and the end-to-end tests all use it.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kontakt/internal/config"
)

// PostgresBin is where Debian's PostgreSQL 15 server programs are.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Missing lists the components of the stack that are not installed on this machine.
func Missing() []string {
	var m []string
	if _, err := os.Stat(filepath.Join(PostgresBin, "postgres")); err != nil {
		m = append(m, "postgresql-15 ("+PostgresBin+"/postgres)")
	}
	if _, err := exec.LookPath("asterisk"); err != nil {
		if _, err := os.Stat("/usr/sbin/asterisk"); err != nil {
			m = append(m, "asterisk")
		}
	}
	for _, c := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(c); err != nil {
			m = append(m, c)
		}
	}
	return m
}

// Options configures a stack.
type Options struct {
	// Dir is the runtime directory; it is created if needed.
	Dir string
	// Ports; zero picks a free one.
	PostgresPort, HTTPPort, SIPPort int
	// RTPStart/RTPEnd bound Asterisk's RTP ports; zero picks a block of 200 from a free area.
	RTPStart, RTPEnd int
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
	// Output receives the servers' own output; nil writes it to files in Dir.
	Output io.Writer
}

// Stack is a running Postgres and Asterisk.
type Stack struct {
	Dir      string
	Postgres *Postgres
	Asterisk *Asterisk
	log      *slog.Logger
}

// Start starts Postgres and Asterisk. On error whatever was started is stopped.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if m := Missing(); len(m) > 0 {
		return nil, fmt.Errorf("stack: not installed: %s (run scripts/install-deps.sh)", strings.Join(m, ", "))
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	s := &Stack{Dir: dir, log: o.Log}
	pg, err := StartPostgres(ctx, filepath.Join(dir, "postgres"), o.PostgresPort, o.Log)
	if err != nil {
		return nil, err
	}
	s.Postgres = pg
	ast, err := StartAsterisk(ctx, AsteriskOptions{
		Dir: filepath.Join(dir, "asterisk"), HTTPPort: o.HTTPPort, SIPPort: o.SIPPort,
		RTPStart: o.RTPStart, RTPEnd: o.RTPEnd, Log: o.Log,
	})
	if err != nil {
		pg.Stop()
		return nil, err
	}
	s.Asterisk = ast
	return s, nil
}

// Stop stops Asterisk, then Postgres.
func (s *Stack) Stop() {
	if s.Asterisk != nil {
		s.Asterisk.Stop()
	}
	if s.Postgres != nil {
		s.Postgres.Stop()
	}
}

// KontaktConfig returns a kontakt configuration pointing at this stack, listening on listen.
func (s *Stack) KontaktConfig(listen string) config.Config {
	c := config.Default()
	c.Listen = listen
	c.Database.URL = s.Postgres.URL("kontakt")
	c.ARI.URL = s.Asterisk.HTTPURL()
	c.ARI.User = "kontakt"
	c.ARI.Password = s.Asterisk.ARIPassword
	c.Calls.PromptsDir = filepath.Join(s.Asterisk.Dir, "prompts")
	c.Calls.MessagesDir = s.Asterisk.MessagesDir()
	c.ACD.Callback.Endpoint = "Local/{number}@phones" // the simulated residents' phones
	c.Recording.ArchiveDir = filepath.Join(s.Dir, "recordings")
	c.Recording.SpoolDir = s.Asterisk.RecordingDir()
	return c
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPPort returns a port free for both UDP and TCP on 127.0.0.1.
func freeUDPPort() (int, error) {
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		if t, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			t.Close()
			return p, nil
		}
	}
	return 0, errors.New("stack: no free UDP port")
}

// randomSecret returns a hex secret for a throwaway runtime.
func randomSecret() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runAs returns the uid/gid to run a server as: root may not run Postgres, so as root the
// servers run as the "postgres" system user (created by Debian's package).
func serviceUser(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("stack: running as root needs the %q user: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownTree(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
}

// makeTraversable lets a service user reach dir: every parent gets o+x.
func makeTraversable(dir string) error {
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o011); err != nil {
				return err
			}
		}
	}
	return nil
}

func waitFor(ctx context.Context, what string, timeout time.Duration, exited <-chan struct{}, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stack: %s not ready after %s: %v", what, timeout, last)
		case <-exited:
			return fmt.Errorf("stack: %s exited while starting: %v", what, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func httpReady(url, user, pass string) func() error {
	client := &http.Client{Timeout: time.Second}
	return func() error {
		req, _ := http.NewRequest("GET", url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}

// RenderSpeech renders text with espeak-ng (voice) into an 8 kHz mono 16-bit WAV at path.
func RenderSpeech(ctx context.Context, voice, text, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	raw := path + ".raw.wav"
	defer os.Remove(raw)
	if out, err := exec.CommandContext(ctx, "espeak-ng", "-v", voice, "-s", "150", "-w", raw, text).CombinedOutput(); err != nil {
		return fmt.Errorf("espeak-ng: %v: %s", err, out)
	}
	tmp := path + ".tmp.wav"
	if out, err := exec.CommandContext(ctx, "sox", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("sox: %v: %s", err, out)
	}
	return os.Rename(tmp, path)
}
