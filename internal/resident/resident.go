// Package resident is Kontakt's simulated resident: it dials 19115 through Asterisk (an ARI
// originate of a Local channel into the residents' context, controlled through its own Stasis
// application), sends DTMF with pauses, plays tones, stays, hangs up, and reports what happened.
// It is the demo's "place a test call" and the tests' caller.
package resident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"

	"kontakt/internal/switchboard"
)

// Step is one thing the resident does once the call is answered.
type Step struct {
	Kind  StepKind
	Wait  time.Duration // wait: how long; tone: how long
	DTMF  string        // dtmf: the digits
	Freq  int           // tone: frequency in Hz
	Label string        // the step as written
}

// StepKind is a kind of step.
type StepKind int

// The step kinds.
const (
	StepUnknown StepKind = iota
	StepWait             // wait 2s
	StepDTMF             // dtmf 12#
	StepTone             // tone 1000 2s
	StepHangup           // hangup
	StepAwait            // await LABEL: wait until Call.Await says the call reached LABEL
)

// ParseScript reads steps separated by commas or semicolons: "wait 2s, dtmf 1, tone 800 1s,
// hangup". Every problem is reported with its position.
func ParseScript(s string) ([]Step, error) {
	var steps []Step
	var errs []error
	for i, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		st := Step{Label: strings.TrimSpace(part)}
		bad := func(msg string) { errs = append(errs, fmt.Errorf("step %d (%q): %s", i+1, st.Label, msg)) }
		switch f[0] {
		case "wait":
			st.Kind = StepWait
			if len(f) != 2 {
				bad("want: wait DURATION (e.g. wait 2s)")
				continue
			}
			d, err := time.ParseDuration(f[1])
			if err != nil || d < 0 || d > time.Hour {
				bad("duration must be like 500ms or 2s, at most 1h")
				continue
			}
			st.Wait = d
		case "dtmf":
			st.Kind = StepDTMF
			if len(f) != 2 {
				bad("want: dtmf DIGITS (e.g. dtmf 12#)")
				continue
			}
			if err := ValidDTMF(f[1]); err != nil {
				bad(err.Error())
				continue
			}
			st.DTMF = f[1]
		case "tone":
			st.Kind = StepTone
			if len(f) != 3 {
				bad("want: tone HZ DURATION (e.g. tone 1000 2s)")
				continue
			}
			hz, err := strconv.Atoi(f[1])
			if err != nil || hz < 50 || hz > 3800 {
				bad("frequency must be 50..3800 Hz")
				continue
			}
			d, err := time.ParseDuration(f[2])
			if err != nil || d <= 0 || d > 10*time.Minute {
				bad("duration must be like 500ms or 2s, at most 10m")
				continue
			}
			st.Freq, st.Wait = hz, d
		case "await":
			st.Kind = StepAwait
			if len(f) != 2 {
				bad("want: await LABEL (e.g. await topics)")
				continue
			}
			st.Label = f[1]
		case "hangup":
			st.Kind = StepHangup
			if len(f) != 1 {
				bad("hangup takes nothing")
				continue
			}
		default:
			bad("unknown step; use wait, dtmf, tone, await or hangup")
			continue
		}
		steps = append(steps, st)
	}
	return steps, errors.Join(errs...)
}

// ValidDTMF checks a DTMF string: 0-9 * # A-D, 1 to 64 keys.
func ValidDTMF(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("DTMF must be 1 to 64 keys, got %d", len(s))
	}
	for i, r := range s {
		if !strings.ContainsRune("0123456789*#ABCD", r) {
			return fmt.Errorf("DTMF key %q at position %d is not one of 0-9 * # A-D", r, i+1)
		}
	}
	return nil
}

// Options configures the resident's client.
type Options struct {
	ARI switchboard.ARIOptions // App is ignored: each client uses its own application name
	// Number and Context are what the Local channel dials (19115@residents).
	Number, Context string
	// Phone, when set, makes the client the resident's phone for that number instead: Kontakt's
	// callbacks to it (Local/<number>@phones) reach the client's application
	// kontakt-phone-<digits>, and Answer takes them.
	Phone string
}

// PhoneApp is the Stasis application of the phone for number (see Options.Phone).
func PhoneApp(number string) string {
	return "kontakt-phone-" + strings.TrimPrefix(number, "+")
}

// Client places simulated residents' calls; one client can carry many calls at once.
type Client struct {
	o      Options
	app    string
	ari    *native.Client
	mu     sync.Mutex
	calls  map[string]*live
	conn   *switchboard.EventConn
	cancel context.CancelFunc
	done   chan struct{}
	// incoming carries the channels ringing the phone (Options.Phone).
	incoming chan string
}

type live struct {
	events chan switchboard.Event
}

// Dial connects the client's event websocket.
func Dial(ctx context.Context, o Options) (*Client, error) {
	if o.Number == "" {
		o.Number = "19115"
	}
	if o.Context == "" {
		o.Context = "residents"
	}
	b := make([]byte, 4)
	rand.Read(b)
	o.ARI.App = "kontakt-resident-" + hex.EncodeToString(b)
	if o.Phone != "" {
		o.ARI.App = PhoneApp(o.Phone)
	}
	if o.ARI.MaxConns == 0 {
		o.ARI.MaxConns = 16
	}
	if o.ARI.RequestTimeout == 0 {
		o.ARI.RequestTimeout = 5 * time.Second
	}
	conn, err := switchboard.DialEvents(ctx, o.ARI)
	if err != nil {
		return nil, err
	}
	c := &Client{o: o, app: o.ARI.App, ari: switchboard.NewARIClient(o.ARI), calls: map[string]*live{}, conn: conn,
		done: make(chan struct{}), incoming: make(chan string, 16)}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	go func() {
		defer close(c.done)
		conn.Read(rctx, c.route, func([]byte, error) {})
	}()
	return c, nil
}

// Close ends the client's connection.
func (c *Client) Close() {
	c.cancel()
	c.conn.Close()
	<-c.done
}

func (c *Client) route(ev switchboard.Event) {
	var id string
	switch e := ev.ARI.(type) {
	case *ari.StasisStart:
		id = e.Channel.ID
	case *ari.StasisEnd:
		id = e.Channel.ID
	case *ari.ChannelDestroyed:
		id = e.Channel.ID
	case *ari.ChannelHangupRequest:
		id = e.Channel.ID
	case *ari.ChannelStateChange:
		id = e.Channel.ID
	case *ari.ChannelDtmfReceived:
		id = e.Channel.ID
	default:
		return
	}
	c.mu.Lock()
	l := c.calls[id]
	c.mu.Unlock()
	if st, ok := ev.ARI.(*ari.StasisStart); ok && l == nil && c.o.Phone != "" && !strings.HasPrefix(id, "res-") {
		select {
		case c.incoming <- st.Channel.ID:
		default:
		}
		return
	}
	if l != nil {
		select {
		case l.events <- ev:
		default: // a call reads its own events promptly; a burst beyond 256 would mean a stuck call
		}
	}
}

// Call describes one resident's call.
type Call struct {
	CallerID string // the resident's number, e.g. +48600100200
	Steps    []Step
	// Stay is how long the resident waits, after the steps, for Kontakt to end the call before
	// hanging up; 0 means wait until Kontakt ends it (bounded by ctx).
	Stay time.Duration
	// Ring bounds how long the call may ring unanswered.
	Ring time.Duration
	// Await, for "await LABEL" steps, returns once the call (known by its reference) has reached
	// LABEL on Kontakt's side — for example an IVR node — or ctx ends.
	Await func(ctx context.Context, ref, label string) error
	// Record records what the resident hears, from the answer on, into Asterisk's recording
	// spool as <Result.Recording>.wav (tests check the other side's audio with it).
	Record bool
}

// Result is what the resident observed.
type Result struct {
	Ref        string        // the KONTAKT_REF the call carried (find the call row by it)
	ChannelID  string        // the resident's own channel
	Answered   bool          // the call was answered
	AnswerWait time.Duration // from originate to answer
	HungUpBy   string        // "resident" or "kontakt"
	Duration   time.Duration // from answer to end
	DTMFHeard  string        // DTMF the resident received
	Recording  string        // with Call.Record: the recording's name in Asterisk's spool
}

// Place makes one call and returns when it has ended.
func (c *Client) Place(ctx context.Context, call Call) (Result, error) {
	ref := newRef()
	chID := "res-" + ref
	res := Result{Ref: ref, ChannelID: chID}
	l := &live{events: make(chan switchboard.Event, 256)}
	c.mu.Lock()
	c.calls[chID] = l
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.calls, chID)
		c.mu.Unlock()
	}()
	if call.Ring == 0 {
		call.Ring = 30 * time.Second
	}
	start := time.Now()
	_, err := c.ari.Channel().Originate(nil, ari.OriginateRequest{
		Endpoint:  "Local/" + c.o.Number + "@" + c.o.Context,
		App:       c.app,
		ChannelID: chID,
		CallerID:  fmt.Sprintf("\"Mieszkaniec\" <%s>", call.CallerID),
		Timeout:   int(call.Ring / time.Second),
		Formats:   "ulaw",
		Variables: map[string]string{"__KONTAKT_REF": ref},
	})
	if err != nil {
		return res, fmt.Errorf("resident: originate: %w", err)
	}
	key := ari.NewKey(ari.ChannelKey, chID)
	hangup := func() {
		res.HungUpBy = "resident"
		c.ari.Channel().Hangup(key, "normal")
	}
	// Wait for the answer (StasisStart of the resident's channel).
	ringCtx, cancel := context.WithTimeout(ctx, call.Ring+2*time.Second)
	defer cancel()
	for !res.Answered {
		select {
		case ev := <-l.events:
			switch ev.ARI.(type) {
			case *ari.StasisStart:
				res.Answered = true
				res.AnswerWait = time.Since(start)
			case *ari.ChannelDestroyed, *ari.StasisEnd:
				return res, fmt.Errorf("resident: the call was not answered")
			}
		case <-ringCtx.Done():
			hangup()
			return res, fmt.Errorf("resident: not answered within %s", call.Ring)
		}
	}
	return c.talk(ctx, key, l, call, res)
}

// Answer waits (at most until ctx ends) for a call to the phone (Options.Phone), lets it ring
// for call.Ring (0: answers at once), answers and then does call.Steps as Place does.
// Result.AnswerWait is how long it rang.
func (c *Client) Answer(ctx context.Context, call Call) (Result, error) {
	var chID string
	select {
	case chID = <-c.incoming:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("resident: no call to %s: %w", c.o.Phone, ctx.Err())
	}
	res := Result{ChannelID: chID}
	l := &live{events: make(chan switchboard.Event, 256)}
	c.mu.Lock()
	c.calls[chID] = l
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.calls, chID)
		c.mu.Unlock()
	}()
	key := ari.NewKey(ari.ChannelKey, chID)
	start := time.Now()
	c.ari.Channel().Ring(key)
	if call.Ring > 0 {
		select {
		case <-time.After(call.Ring):
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	if err := c.ari.Channel().Answer(key); err != nil {
		return res, fmt.Errorf("resident: answer: %w", err)
	}
	res.Answered, res.AnswerWait = true, time.Since(start)
	if h, err := c.ari.Channel().Data(key); err == nil && h.ChannelVars != nil {
		res.Ref = h.ChannelVars["KONTAKT_REF"]
	}
	return c.talk(ctx, key, l, call, res)
}

// Decline lets the next call to the phone go unanswered: it waits for it (at most until ctx
// ends) and hangs it up with cause, e.g. 17 (busy) or 21 (rejected).
func (c *Client) Decline(ctx context.Context, cause int) error {
	select {
	case chID := <-c.incoming:
		return c.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, chID), map[int]string{17: "busy", 21: "congestion"}[cause])
	case <-ctx.Done():
		return ctx.Err()
	}
}

// talk does the call's steps once it is answered.
func (c *Client) talk(ctx context.Context, key *ari.Key, l *live, call Call, res Result) (Result, error) {
	ref := res.Ref
	if ref == "" {
		ref = newRef()
	}
	hangup := func() {
		res.HungUpBy = "resident"
		c.ari.Channel().Hangup(key, "normal")
	}
	var err error
	answered := time.Now()
	ended := false
	if call.Record {
		// A channel that records cannot play (the resident's tones): record a snoop instead. On
		// the resident's Local channel what the resident hears is read from it ("in"); what it
		// plays is written to it ("out").
		res.Recording = "res-" + ref
		snoop, err := c.ari.Channel().Snoop(key, "res-snoop-"+ref, &ari.SnoopOptions{App: c.app, Spy: ari.DirectionIn})
		if err == nil {
			_, err = c.ari.Channel().Record(snoop.Key(), res.Recording, &ari.RecordingOptions{Format: "wav", Exists: "overwrite",
				MaxDuration: 10 * time.Minute})
		}
		if err != nil {
			hangup()
			return res, fmt.Errorf("resident: record: %w", err)
		}
	}
	// gone drains events until the deadline; it reports whether Kontakt ended the call.
	waitUntil := func(deadline <-chan time.Time) (bool, error) {
		for {
			select {
			case ev := <-l.events:
				switch e := ev.ARI.(type) {
				case *ari.StasisEnd, *ari.ChannelDestroyed:
					return true, nil
				case *ari.ChannelDtmfReceived:
					res.DTMFHeard += e.Digit
				}
			case <-deadline:
				return false, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
	}
	for _, st := range call.Steps {
		if ended {
			break
		}
		switch st.Kind {
		case StepWait:
			ended, err = waitUntil(time.After(st.Wait))
		case StepDTMF:
			err = c.ari.Channel().SendDTMF(key, st.DTMF, &ari.DTMFOptions{Duration: 100 * time.Millisecond, Between: 100 * time.Millisecond})
			if err == nil {
				ended, err = waitUntil(time.After(time.Duration(len(st.DTMF)) * 200 * time.Millisecond))
			}
		case StepTone:
			var file string
			if file, err = toneFile(st.Freq, st.Wait); err == nil {
				_, err = c.ari.Channel().Play(key, "res-tone-"+newRef(), "sound:"+strings.TrimSuffix(file, ".wav"))
			}
			if err == nil {
				ended, err = waitUntil(time.After(st.Wait))
			}
		case StepHangup:
			hangup()
			ended = true
		case StepAwait:
			if call.Await == nil {
				err = fmt.Errorf("no Await function for %q", st.Label)
				break
			}
			actx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			done := make(chan error, 1)
			go func() { done <- call.Await(actx, ref, st.Label) }()
			select {
			case err = <-done:
			case ev := <-l.events:
				if _, gone := ev.ARI.(*ari.StasisEnd); gone {
					ended = true
				} else if _, gone := ev.ARI.(*ari.ChannelDestroyed); gone {
					ended = true
				}
			}
			cancel()
		}
		if err != nil {
			hangup()
			res.Duration = time.Since(answered)
			return res, fmt.Errorf("resident: step %q: %w", st.Label, err)
		}
	}
	if !ended {
		var deadline <-chan time.Time
		if call.Stay > 0 {
			deadline = time.After(call.Stay)
		}
		ended, err = waitUntil(deadline)
		if err != nil {
			hangup()
			return res, err
		}
		if !ended {
			hangup()
		}
	}
	if res.HungUpBy == "" {
		res.HungUpBy = "kontakt"
	}
	res.Duration = time.Since(answered)
	return res, nil
}

// toneFile renders a sine tone as an 8 kHz 16-bit WAV with sox (once per frequency and length).
// Asterisk 16 refuses ad-hoc frequencies in tone: URIs, so the resident plays a file.
func toneFile(hz int, d time.Duration) (string, error) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("kontakt-tone-%d-%d.wav", hz, d.Milliseconds()))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp := fmt.Sprintf("%s.%s.wav", strings.TrimSuffix(path, ".wav"), newRef())
	out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", tmp, "synth",
		fmt.Sprintf("%.3f", d.Seconds()), "sine", strconv.Itoa(hz), "vol", "0.5").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("sox: %v: %s", err, out)
	}
	return path, os.Rename(tmp, path)
}

func newRef() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
