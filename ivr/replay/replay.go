// Package replay is the IVR dry run: it plays key sequences against a menu version with the
// real interpreter and reports where each caller would end, and which sequences end
// differently between two versions. It is pure: no clock, no I/O.
package replay

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"kontakt/ivr"
)

// Input is a dry run's callers.
type Input struct {
	// At is when the calls start (hours nodes branch on it).
	At time.Time
	// Language the calls start in (the menu's default when empty).
	Language ivr.Lang
	// Tickets are the ticket numbers that exist, for ticket status self-service.
	Tickets map[string]ivr.TicketInfo
	// Sequences are what callers key, one string each: keys 0-9 * #; "w" waits until the menu
	// gives up waiting (its timeout); "w3s" waits that long; "h" hangs up. Spaces and commas
	// separate nothing and may be used freely: "1 8 1234# w".
	// The caller listens to each prompt to its end before pressing the next key.
	Sequences []string
}

// End is where a caller ended up.
type End struct {
	Outcome     ivr.Outcome `json:"outcome"`
	Queue       string      `json:"queue,omitempty"`
	Skills      []string    `json:"skills,omitempty"`
	Language    ivr.Lang    `json:"language"`
	Priority    int         `json:"priority,omitempty"`
	ViaFallback bool        `json:"via_fallback,omitempty"`
	Callback    string      `json:"callback,omitempty"` // number booked ("caller" for the caller's own)
	Ticket      string      `json:"ticket,omitempty"`   // ticket whose status was heard
}

func (e End) String() string {
	var s string
	switch e.Outcome {
	case ivr.OutcomeQueue:
		s = fmt.Sprintf("queue %s (%s)", e.Queue, e.Language)
	case ivr.OutcomeSelfService:
		s = fmt.Sprintf("self-service, ticket %s (%s)", e.Ticket, e.Language)
	case ivr.OutcomeCallback:
		s = fmt.Sprintf("callback to %s (%s)", e.Callback, e.Language)
	case ivr.OutcomeHangUp:
		s = fmt.Sprintf("hang-up by the menu (%s)", e.Language)
	case ivr.OutcomeCallerHangUp:
		s = fmt.Sprintf("caller hung up in the menu (%s)", e.Language)
	case ivr.OutcomeError:
		s = "menu error"
	default:
		s = "still in the menu"
	}
	if e.ViaFallback {
		s += " via fallback"
	}
	return s
}

func (e End) equal(o End) bool {
	return e.Outcome == o.Outcome && e.Queue == o.Queue && e.Language == o.Language &&
		e.Priority == o.Priority && e.ViaFallback == o.ViaFallback && e.Callback == o.Callback &&
		e.Ticket == o.Ticket && strings.Join(e.Skills, ",") == strings.Join(o.Skills, ",")
}

// Report is one caller's dry run.
type Report struct {
	Sequence string   `json:"sequence"`
	End      End      `json:"end"`
	Path     []string `json:"path"`           // nodes entered, in order
	Note     string   `json:"note,omitempty"` // unused keys, a bad sequence, a call that never ends
}

// maxSteps bounds one caller's events (a menu that never lets go).
const maxSteps = 10000

// Run plays every sequence against m.
func Run(m *ivr.Menu, in Input) []Report {
	out := make([]Report, 0, len(in.Sequences))
	for _, s := range in.Sequences {
		out = append(out, run(m, in, s))
	}
	return out
}

type token struct {
	key  byte          // a DTMF key, or 'w' / 'h'
	wait time.Duration // for 'w': 0 means until the timeout
}

func parse(seq string) ([]token, error) {
	var toks []token
	for i := 0; i < len(seq); i++ {
		c := seq[i]
		switch {
		case c == ' ' || c == ',' || c == '\t':
		case (c >= '0' && c <= '9') || c == '*' || c == '#':
			toks = append(toks, token{key: c})
		case c == 'h' || c == 'H':
			toks = append(toks, token{key: 'h'})
		case c == 'w' || c == 'W':
			j := i + 1
			for j < len(seq) && strings.IndexByte("0123456789.hmsu", seq[j]) >= 0 {
				j++
			}
			t := token{key: 'w'}
			if j > i+1 {
				d, err := time.ParseDuration(seq[i+1 : j])
				if err != nil || d <= 0 {
					return nil, fmt.Errorf("%q is not a wait like w or w3s", seq[i:j])
				}
				t.wait = d
			}
			toks = append(toks, t)
			i = j - 1
		default:
			return nil, fmt.Errorf("%q is not a key (0-9 * #), a wait (w, w3s) or a hang-up (h)", string(c))
		}
	}
	return toks, nil
}

type caller struct {
	call    *ivr.Call
	now     time.Time
	playing ivr.PlaybackID
	timer   *ivr.StartTimer
	lookup  string
	path    []string
	end     End
}

func (c *caller) do(acts []ivr.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case ivr.EnterNode:
			c.path = append(c.path, a.Node)
		case ivr.Play:
			c.playing = a.ID
		case ivr.StopPlayback:
			c.playing = 0
		case ivr.StartTimer:
			c.timer = &a
		case ivr.CancelTimer:
			c.timer = nil
		case ivr.LookupTicket:
			c.lookup = a.Number
		case ivr.RequestCallback:
			c.end.Callback = a.Number
			if a.Number == "" {
				c.end.Callback = "caller"
			}
		}
	}
}

func run(m *ivr.Menu, in Input, seq string) Report {
	r := Report{Sequence: seq}
	toks, err := parse(seq)
	if err != nil {
		r.Note = err.Error()
		return r
	}
	c := &caller{call: ivr.NewCall(m, ivr.CallOptions{Language: in.Language}), now: in.At}
	c.do(c.call.Start(c.now))
	step := func(ev ivr.Event) { c.do(c.call.Step(c.now, ev)) }
	fire := func() {
		t := c.timer
		c.timer = nil
		if t.At.After(c.now) {
			c.now = t.At
		}
		step(ivr.TimerFired{ID: t.ID})
	}
	for n := 0; !c.call.Done(); n++ {
		if n == maxSteps {
			r.Note = "the call never leaves the menu"
			break
		}
		switch {
		case c.lookup != "":
			num := c.lookup
			c.lookup = ""
			if t, ok := in.Tickets[num]; ok {
				c.end.Ticket = num
				step(ivr.LookupResult{Number: num, Status: ivr.LookupFound, Ticket: t})
			} else {
				step(ivr.LookupResult{Number: num, Status: ivr.LookupNotFound})
			}
		case c.playing != 0:
			id := c.playing
			c.playing = 0
			step(ivr.PromptFinished{ID: id})
		case len(toks) > 0:
			t := toks[0]
			toks = toks[1:]
			switch {
			case t.key == 'h':
				step(ivr.CallerHangUp{})
			case t.key == 'w' && t.wait == 0:
				if c.timer != nil {
					fire()
				}
			case t.key == 'w':
				c.now = c.now.Add(t.wait)
				if c.timer != nil && !c.timer.At.After(c.now) {
					fire()
				}
			default:
				step(ivr.DTMF{Digit: t.key})
			}
		case c.timer != nil: // the caller says nothing more
			fire()
		default:
			r.Note = "the call waits for nothing"
			n = maxSteps - 1
		}
	}
	res := c.call.Result()
	r.End.Outcome, r.End.Queue, r.End.Skills = res.Outcome, res.Queue, res.Skills
	r.End.Language, r.End.Priority, r.End.ViaFallback = res.Language, res.Priority, res.ViaFallback
	r.End.Callback, r.End.Ticket = c.end.Callback, c.end.Ticket
	if res.Outcome != ivr.OutcomeCallback {
		r.End.Callback = ""
	}
	if res.Outcome != ivr.OutcomeSelfService {
		r.End.Ticket = ""
	}
	r.Path = c.path
	if len(toks) > 0 && r.Note == "" {
		var b strings.Builder
		for _, t := range toks {
			if t.key == 'w' {
				b.WriteString("w ")
				continue
			}
			b.WriteByte(t.key)
			b.WriteByte(' ')
		}
		r.Note = "keys left unused: " + strings.TrimSpace(b.String())
	}
	return r
}

// ReadSequences reads key sequences one a line (for `kontakt ivr replay`); blank lines and
// lines starting with // are skipped. Every sequence is checked: all bad lines are reported.
func ReadSequences(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var seqs []string
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		if _, err := parse(line); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
			continue
		}
		seqs = append(seqs, line)
	}
	return seqs, errors.Join(errs...)
}

// Change is a sequence whose end or path differs between two versions.
type Change struct {
	Sequence    string `json:"sequence"`
	Before      Report `json:"before"`
	After       Report `json:"after"`
	EndChanged  bool   `json:"end_changed"`
	PathChanged bool   `json:"path_changed"`
}

// Diff plays the sequences against both versions and returns those that end differently or
// take another path, in input order.
func Diff(before, after *ivr.Menu, in Input) []Change {
	a, b := Run(before, in), Run(after, in)
	var out []Change
	for i := range a {
		ch := Change{Sequence: a[i].Sequence, Before: a[i], After: b[i],
			EndChanged:  !a[i].End.equal(b[i].End),
			PathChanged: strings.Join(a[i].Path, " ") != strings.Join(b[i].Path, " ")}
		if ch.EndChanged || ch.PathChanged {
			out = append(out, ch)
		}
	}
	return out
}

// Write prints reports one a line: the sequence, where it ends, and the path.
func Write(w io.Writer, reports []Report) error {
	width := 0
	for _, r := range reports {
		width = max(width, len(r.Sequence))
	}
	for _, r := range reports {
		line := fmt.Sprintf("%-*s → %s  [%s]", width, quote(r.Sequence), r.End, strings.Join(r.Path, " > "))
		if r.Note != "" {
			line += "  (" + r.Note + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// WriteDiff prints changes: each sequence with its end and path before and after.
func WriteDiff(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no sequence ends differently or takes another path")
		return err
	}
	for _, c := range changes {
		what := "path changed"
		if c.EndChanged {
			what = "ends differently"
		}
		_, err := fmt.Fprintf(w, "%s: %s\n  before: %s  [%s]\n  after:  %s  [%s]\n", quote(c.Sequence), what,
			c.Before.End, strings.Join(c.Before.Path, " > "), c.After.End, strings.Join(c.After.Path, " > "))
		if err != nil {
			return err
		}
	}
	return nil
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
