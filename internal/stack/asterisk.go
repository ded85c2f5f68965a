package stack

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	asteriskconfig "kontakt/asterisk-config"
)

// Asterisk is an Asterisk process running with Kontakt's configuration from a runtime directory.
type Asterisk struct {
	Dir         string
	HTTPPort    int
	SIPPort     int
	RTPStart    int
	RTPEnd      int
	ARIPassword string
	opts        AsteriskOptions
	cmd         *exec.Cmd
	done        chan struct{}
	log         *slog.Logger
}

// AsteriskOptions configures StartAsterisk.
type AsteriskOptions struct {
	Dir               string
	HTTPPort, SIPPort int
	RTPStart, RTPEnd  int
	ARIPassword       string // empty: a random one, kept across restarts of the same Asterisk value
	Log               *slog.Logger
	SkipSystemPrompts bool
	// Retries is how often the dialplan retries Stasis() before taking a message (0: as configured).
	Retries            int
	ExtraConfigDirFunc func(etc string) error // writes extra files into etc (tests)
}

// StartAsterisk renders the configuration into o.Dir and starts Asterisk.
func StartAsterisk(ctx context.Context, o AsteriskOptions) (*Asterisk, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var err error
	if o.HTTPPort == 0 {
		if o.HTTPPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if o.SIPPort == 0 {
		if o.SIPPort, err = freeUDPPort(); err != nil {
			return nil, err
		}
	}
	if o.RTPStart == 0 {
		// A block of ports derived from the HTTP port keeps parallel test runs apart.
		o.RTPStart = 20000 + (o.HTTPPort%200)*100
		o.RTPEnd = o.RTPStart + 98
	}
	if o.ARIPassword == "" {
		o.ARIPassword = randomSecret()
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	a := &Asterisk{Dir: dir, HTTPPort: o.HTTPPort, SIPPort: o.SIPPort, RTPStart: o.RTPStart, RTPEnd: o.RTPEnd,
		ARIPassword: o.ARIPassword, opts: o, log: o.Log}
	if err := a.render(ctx); err != nil {
		return nil, err
	}
	if err := a.start(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Asterisk) etc() string { return filepath.Join(a.Dir, "etc") }

// SoundsDir holds the dialplan's own prompts (the apology and the message prompt).
func (a *Asterisk) SoundsDir() string { return filepath.Join(a.Dir, "sounds") }

// MessagesDir is where the dialplan records messages left while kontakt is away.
func (a *Asterisk) MessagesDir() string { return filepath.Join(a.Dir, "spool", "kontakt-messages") }

// RecordingDir is Asterisk's recording spool.
func (a *Asterisk) RecordingDir() string { return filepath.Join(a.Dir, "spool", "recording") }

// HTTPURL is the base URL of Asterisk's HTTP server.
func (a *Asterisk) HTTPURL() string { return "http://127.0.0.1:" + strconv.Itoa(a.HTTPPort) }

// ConfigFile is the asterisk.conf of this runtime.
func (a *Asterisk) ConfigFile() string { return filepath.Join(a.etc(), "asterisk.conf") }

func (a *Asterisk) render(ctx context.Context) error {
	d := a.Dir
	for _, sub := range []string{"etc", "lib", "db", "keys", "spool", "spool/recording", "spool/kontakt-messages",
		"run", "log", "sounds", "prompts", "moh"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	o := asteriskconfig.Overrides{}
	for k, v := range map[string]string{
		"astetcdir": a.etc(), "astvarlibdir": filepath.Join(d, "lib"), "astdbdir": filepath.Join(d, "db"),
		"astkeydir": filepath.Join(d, "keys"), "astspooldir": filepath.Join(d, "spool"),
		"astrundir": filepath.Join(d, "run"), "astlogdir": filepath.Join(d, "log"),
	} {
		o.Set("asterisk.conf", "directories", k, v)
	}
	o.Set("http.conf", "general", "bindport", strconv.Itoa(a.HTTPPort))
	o.Set("ari.conf", "kontakt", "password", a.ARIPassword)
	o.Set("pjsip.conf", "transport-udp", "bind", "127.0.0.1:"+strconv.Itoa(a.SIPPort))
	o.Set("rtp.conf", "general", "rtpstart", strconv.Itoa(a.RTPStart))
	o.Set("rtp.conf", "general", "rtpend", strconv.Itoa(a.RTPEnd))
	o.Set("extensions.conf", "globals", "KONTAKT_SOUNDS", a.SoundsDir())
	o.Set("extensions.conf", "globals", "KONTAKT_MESSAGES", a.MessagesDir())
	if a.opts.Retries > 0 {
		o.Set("extensions.conf", "globals", "KONTAKT_RETRIES", strconv.Itoa(a.opts.Retries))
	}
	o.Set("musiconhold.conf", "default", "directory", filepath.Join(d, "moh"))
	if err := asteriskconfig.Render(a.etc(), o); err != nil {
		return err
	}
	if a.opts.ExtraConfigDirFunc != nil {
		if err := a.opts.ExtraConfigDirFunc(a.etc()); err != nil {
			return err
		}
	}
	if !a.opts.SkipSystemPrompts {
		if err := RenderSystemPrompts(ctx, a.SoundsDir()); err != nil {
			return err
		}
		if err := RenderHoldMusic(ctx, filepath.Join(d, "moh")); err != nil {
			return err
		}
	}
	return nil
}

// SystemPrompts are the dialplan's own prompts, heard when kontakt is away (Polish, then English).
var SystemPrompts = map[string][2]string{
	"apology": {"Przepraszamy, system obsługi zgłoszeń jest chwilowo niedostępny. Prosimy pozostać na linii.",
		"We are sorry, the contact center system is briefly unavailable. Please stay on the line."},
	"leave-message": {"Prosimy zostawić wiadomość po sygnale: imię, numer telefonu i sprawę. Oddzwonimy.",
		"Please leave a message after the tone: your name, phone number and your matter. We will call you back."},
}

// RenderSystemPrompts renders SystemPrompts into dir (skipping those already rendered).
func RenderSystemPrompts(ctx context.Context, dir string) error {
	for name, texts := range SystemPrompts {
		path := filepath.Join(dir, name+".wav")
		if _, err := os.Stat(path); err == nil {
			continue
		}
		pl, en := path+".pl.wav", path+".en.wav"
		if err := RenderSpeech(ctx, "pl", texts[0], pl); err != nil {
			return err
		}
		if err := RenderSpeech(ctx, "en", texts[1], en); err != nil {
			return err
		}
		out, err := exec.CommandContext(ctx, "sox", pl, en, path).CombinedOutput()
		os.Remove(pl)
		os.Remove(en)
		if err != nil {
			return fmt.Errorf("sox: %v: %s", err, out)
		}
	}
	return nil
}

// HoldNotes are the hold music's pitches (G4, B4, D5, B4): low and distinct from the test
// tones, so tests can tell the music from a party's voice.
var HoldNotes = []int{392, 494, 587, 494}

// RenderHoldMusic writes a calm synthetic arpeggio (8 kHz WAV, 8 s) into dir if it has none.
func RenderHoldMusic(ctx context.Context, dir string) error {
	path := filepath.Join(dir, "kontakt-hold.wav")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	var notes []string
	for i, hz := range HoldNotes {
		n := fmt.Sprintf("%s.note%d.wav", path, i)
		if out, err := exec.CommandContext(ctx, "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", n,
			"synth", "0.5", "sine", fmt.Sprint(hz), "fade", "0.05", "0.5", "0.1", "vol", "0.3").CombinedOutput(); err != nil {
			return fmt.Errorf("sox hold music: %v: %s", err, out)
		}
		defer os.Remove(n)
		notes = append(notes, n)
	}
	var args []string
	for range 4 {
		args = append(args, notes...)
	}
	args = append(args, path+".tmp.wav")
	if out, err := exec.CommandContext(ctx, "sox", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("sox hold music: %v: %s", err, out)
	}
	return os.Rename(path+".tmp.wav", path)
}

func (a *Asterisk) start(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(a.Dir, "log", "asterisk.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	bin, err := exec.LookPath("asterisk")
	if err != nil {
		bin = "/usr/sbin/asterisk"
	}
	// -f: foreground, no console; -n: no colour; -C: this runtime's asterisk.conf.
	cmd := exec.Command(bin, "-f", "-n", "-C", a.ConfigFile())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("stack: start asterisk: %w", err)
	}
	a.cmd = cmd
	a.done = make(chan struct{})
	done := a.done
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	err = waitFor(ctx, "asterisk", 60*time.Second, done, httpReady(a.HTTPURL()+"/ari/asterisk/info", "kontakt", a.ARIPassword))
	if err != nil {
		a.Stop()
		return fmt.Errorf("%w (see %s)", err, logf.Name())
	}
	a.log.Info("asterisk ready", "http_port", a.HTTPPort, "sip_port", a.SIPPort)
	return nil
}

// CLI runs an Asterisk CLI command on this instance and returns its output.
func (a *Asterisk) CLI(ctx context.Context, command string) (string, error) {
	out, err := exec.CommandContext(ctx, "asterisk", "-C", a.ConfigFile(), "-rx", command).CombinedOutput()
	return string(out), err
}

// Running reports whether the process is up.
func (a *Asterisk) Running() bool {
	if a.done == nil {
		return false
	}
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// Stop stops Asterisk at once (active channels are hung up) and waits for it.
func (a *Asterisk) Stop() {
	if !a.Running() {
		return
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		a.cmd.Process.Kill()
		<-a.done
	}
}

// Kill ends Asterisk abruptly (SIGKILL): no event about its channels reaches anyone, as in a crash.
func (a *Asterisk) Kill() {
	if !a.Running() {
		return
	}
	a.cmd.Process.Kill()
	<-a.done
}

// Restart stops and starts Asterisk with the same ports and password.
func (a *Asterisk) Restart(ctx context.Context) error {
	a.Stop()
	return a.start(ctx)
}

// StartAgain starts a stopped Asterisk with the same configuration.
func (a *Asterisk) StartAgain(ctx context.Context) error {
	if a.Running() {
		return nil
	}
	return a.start(ctx)
}

// CPUTime returns the CPU time (user + system) Asterisk has used so far, from /proc.
func (a *Asterisk) CPUTime() (time.Duration, error) {
	if !a.Running() {
		return 0, fmt.Errorf("asterisk is not running")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat: %q", s)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks, nil
}
