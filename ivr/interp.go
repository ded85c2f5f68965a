package ivr

import (
	"slices"
	"time"
)

// Outcome is how a call left the IVR: a small closed set, used as a metric label.
type Outcome uint8

const (
	OutcomeUnknown      Outcome = iota // still in the IVR
	OutcomeQueue                       // routed to a consultant queue
	OutcomeSelfService                 // heard a ticket's status and left
	OutcomeCallback                    // booked a callback
	OutcomeHangUp                      // the menu hung up (closed hours, goodbye)
	OutcomeCallerHangUp                // the caller hung up in the IVR
	OutcomeError                       // the menu led nowhere (only an unvalidated menu can)
)

var outcomeNames = [...]string{"unknown", "queue", "self_service", "callback", "hang_up", "caller_hang_up", "error"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// ParseOutcome is the inverse of String (OutcomeUnknown for anything else).
func ParseOutcome(s string) Outcome {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i)
		}
	}
	return OutcomeUnknown
}

func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }
func (o *Outcome) UnmarshalText(b []byte) error {
	*o = ParseOutcome(string(b))
	return nil
}

// Result is where a call ended up.
type Result struct {
	Outcome     Outcome  `json:"outcome"`
	Queue       string   `json:"queue,omitempty"`
	Skills      []string `json:"skills,omitempty"`
	Language    Lang     `json:"language"`
	Priority    int      `json:"priority,omitempty"`
	ViaFallback bool     `json:"via_fallback,omitempty"` // a fallback was taken on the way (retries exhausted, lookup failed)
}

type phase uint8

const (
	phaseNew     phase = iota
	phasePlaying       // waiting for PromptFinished{play}
	phaseWaiting       // waiting for keys, timer running
	phaseLookup        // waiting for LookupResult, timer running
	phaseDone
)

type after uint8

const (
	afterInput  after = iota // wait for keys
	afterGo                  // go to c.target
	afterRoute               // route to the node's queue
	afterHangUp              // hang up
)

// maxHops bounds how many nodes one step may pass through without waiting (goto, hours,
// callback without prompt). Only an unvalidated menu with a loop without input can reach it.
const maxHops = 256

// CallOptions are set when a call starts.
type CallOptions struct {
	// Language to start in; the menu's default language when empty or not declared.
	Language Lang
}

// Call is one caller's way through one menu version: a pure state machine. Feed it the events
// of the call with the time they happened; perform the actions it returns, in order. It reads
// no clock, starts nothing and does no I/O; it is not safe for concurrent use (one goroutine
// per call drives it).
type Call struct {
	menu *Menu
	lang Lang
	li   int // langIndex(lang)
	node *Node

	phase    phase
	after    after
	target   string
	play     PlaybackID
	timer    TimerID
	seq      uint32
	attempts int
	digits   [maxDigitsLimit]byte
	nd       int
	vars     map[string]string

	hops       int // nodes entered during the current step (bounded by maxHops)
	result     Result
	found      bool // a ticket status was heard
	callback   bool // a callback was booked
	viaFallbck bool
}

// NewCall starts nothing yet: call Start. m must come from Decode or Load (and have passed
// validation); the call keeps m to its end.
func NewCall(m *Menu, opts CallOptions) *Call {
	c := &Call{menu: m}
	l := opts.Language
	if !slices.Contains(m.Languages, l) || langIndex(l) < 0 {
		l = m.defaultLang()
	}
	c.setLang(l)
	return c
}

func (c *Call) setLang(l Lang) {
	c.lang = l
	c.li = max(langIndex(l), 0)
}

// Menu is the menu version the call runs.
func (c *Call) Menu() *Menu { return c.menu }

// Language is the call's language now.
func (c *Call) Language() Lang { return c.lang }

// Node is the id of the node the call is at ("" before Start).
func (c *Call) Node() string {
	if c.node == nil {
		return ""
	}
	return c.node.ID
}

// Done reports whether the IVR is finished with the call.
func (c *Call) Done() bool { return c.phase == phaseDone }

// Result is where the call ended (Outcome Unknown while it is still in the IVR).
func (c *Call) Result() Result { return c.result }

// Vars returns the numbers keyed in collect nodes, by their into name.
func (c *Call) Vars() map[string]string { return c.vars }

// Start enters the menu's first node.
func (c *Call) Start(now time.Time) []Action {
	if c.phase != phaseNew {
		return nil
	}
	c.hops = 0
	out := make([]Action, 0, 4)
	out = append(out, SetLanguage{c.lang})
	return c.goTo(now, c.menu.Start, out)
}

// Step feeds one event to the call and returns what to do.
func (c *Call) Step(now time.Time, ev Event) []Action {
	if c.phase == phaseDone || c.phase == phaseNew {
		return nil
	}
	c.hops = 0
	var out []Action
	switch e := ev.(type) {
	case PromptFinished:
		if c.phase != phasePlaying || e.ID != c.play {
			return nil
		}
		out = make([]Action, 0, 4)
		return c.afterPlay(now, out)
	case DTMF:
		return c.digit(now, e.Digit)
	case TimerFired:
		if e.ID != c.timer || c.timer == 0 {
			return nil
		}
		c.timer = 0
		out = make([]Action, 0, 4)
		return c.timeout(now, out)
	case LookupResult:
		if c.phase != phaseLookup {
			return nil
		}
		out = make([]Action, 0, 4)
		return c.lookupResult(now, e, out)
	case CallerHangUp:
		if c.timer != 0 {
			out = append(out, CancelTimer{c.timer})
			c.timer = 0
		}
		c.finish(OutcomeCallerHangUp)
		return out
	}
	return nil
}

func (c *Call) finish(o Outcome) {
	c.phase = phaseDone
	switch {
	case o == OutcomeQueue || o == OutcomeError:
	case c.callback:
		o = OutcomeCallback
	case c.found:
		o = OutcomeSelfService
	}
	c.result.Outcome = o
	c.result.Language = c.lang
	c.result.ViaFallback = c.viaFallbck
}

func (c *Call) newID() uint32 {
	c.seq++
	return c.seq
}

// startPlay plays prompts, then does a. With nothing to play (only an incomplete,
// unvalidated menu lacks a prompt) it goes straight on.
func (c *Call) startPlay(now time.Time, prompts []PromptRef, bargeIn bool, a after, out []Action) []Action {
	c.after = a
	if len(prompts) == 0 {
		c.phase = phasePlaying
		return c.afterPlay(now, out)
	}
	c.play = PlaybackID(c.newID())
	c.phase = phasePlaying
	return append(out, Play{ID: c.play, Prompts: prompts, BargeIn: bargeIn})
}

func (c *Call) startTimer(now time.Time, d time.Duration, out []Action) []Action {
	c.timer = TimerID(c.newID())
	return append(out, StartTimer{ID: c.timer, At: now.Add(d), After: d})
}

func (c *Call) cancelTimer(out []Action) []Action {
	if c.timer != 0 {
		out = append(out, CancelTimer{c.timer})
		c.timer = 0
	}
	return out
}

func (c *Call) fail(out []Action) []Action {
	out = c.cancelTimer(out)
	c.finish(OutcomeError)
	return append(out, HangUp{Reason: "menu_error"})
}

// goTo enters node id, passing through nodes that do not wait (goto, hours, …).
func (c *Call) goTo(now time.Time, id string, out []Action) []Action {
	for {
		c.hops++
		n := c.menu.Nodes[id]
		if n == nil || c.hops > maxHops {
			return c.fail(out)
		}
		c.node, c.attempts, c.nd = n, 0, 0
		out = append(out, EnterNode{Node: n.ID, Kind: n.Kind})
		p := &n.c.play[c.li]
		switch n.Kind {
		case KindGoto:
			id = n.Next
		case KindHours:
			id = n.c.branch(now.In(c.menu.Location()), n)
		case KindPlay:
			c.target = n.Next
			return c.startPlay(now, p.main, n.c.bargeIn, afterGo, out)
		case KindMenu, KindLanguage, KindCollect, KindTicketStatus:
			return c.startPlay(now, p.main, n.c.bargeIn, afterInput, out)
		case KindQueue:
			return c.startPlay(now, p.main, n.c.bargeIn, afterRoute, out)
		case KindCallback:
			c.callback = true
			out = append(out, RequestCallback{Number: c.vars[n.NumberFrom], Queue: n.Queue, Language: c.lang})
			c.target = n.Next
			return c.startPlay(now, p.main, n.c.bargeIn, afterGo, out)
		case KindHangUp:
			return c.startPlay(now, p.main, n.c.bargeIn, afterHangUp, out)
		default:
			return c.fail(out)
		}
	}
}

// branch picks the hours node's way at local time t.
func (cc *compiled) branch(t time.Time, n *Node) string {
	if cc.holidays[t.Format("2006-01-02")] {
		if n.Holiday != "" {
			return n.Holiday
		}
		return n.Closed
	}
	m := t.Hour()*60 + t.Minute()
	for _, w := range cc.windows {
		if w.days&(1<<t.Weekday()) != 0 && w.from <= m && m < w.to {
			return n.Open
		}
	}
	return n.Closed
}

func (c *Call) route(out []Action) []Action {
	n := c.node
	l := n.Language
	if l == "" {
		l = c.lang
	}
	r := Route{Queue: n.Queue, Skills: n.Skills, Language: l, Priority: n.Priority}
	c.result.Queue, c.result.Skills, c.result.Priority = r.Queue, r.Skills, r.Priority
	c.finish(OutcomeQueue)
	c.result.Language = l
	return append(out, r)
}

func (c *Call) afterPlay(now time.Time, out []Action) []Action {
	c.play = 0
	switch c.after {
	case afterInput:
		c.phase = phaseWaiting
		return c.startTimer(now, c.node.c.timeout, out)
	case afterGo:
		return c.goTo(now, c.target, out)
	case afterRoute:
		return c.route(out)
	default: // afterHangUp
		c.finish(OutcomeHangUp)
		return append(out, HangUp{Reason: "menu"})
	}
}

func (c *Call) digit(now time.Time, d byte) []Action {
	if digitIndex(d) < 0 {
		return nil
	}
	n := c.node
	out := make([]Action, 0, 4)
	listening := c.phase == phaseWaiting ||
		(c.phase == phasePlaying && n.c.bargeIn && (c.after == afterInput || n.Kind == KindPlay))
	out = append(out, DigitReceived{Node: n.ID, Digit: digitString(d), Ignored: !listening})
	if !listening {
		return out
	}
	if c.phase == phasePlaying {
		out = append(out, StopPlayback{c.play})
		c.play = 0
		if n.Kind == KindPlay { // barge-in on a plain prompt skips to what follows
			return c.goTo(now, c.target, out)
		}
	}
	out = c.cancelTimer(out)
	c.phase = phaseWaiting
	switch n.Kind {
	case KindMenu:
		k := n.c.keys[digitIndex(d)]
		if k == 0 {
			return c.retry(now, false, out)
		}
		o := &n.Options[k-1]
		if o.Repeat {
			return c.startPlay(now, n.c.play[c.li].main, n.c.bargeIn, afterInput, out)
		}
		return c.goTo(now, o.Next, out)
	case KindLanguage:
		k := n.c.keys[digitIndex(d)]
		if k == 0 {
			return c.retry(now, false, out)
		}
		ch := &n.Choices[k-1]
		next := ch.Next
		if next == "" {
			next = n.Next
		}
		return c.chooseLanguage(now, ch.Language, next, out)
	case KindCollect, KindTicketStatus:
		switch {
		case n.Kind == KindTicketStatus && d == n.c.escape && d != 0:
			return c.goTo(now, n.EscapeNext, out)
		case d == n.c.terminator:
			return c.number(now, out)
		case d < '0' || d > '9':
			return c.retry(now, false, out)
		}
		c.digits[c.nd] = d
		c.nd++
		if c.nd >= n.c.maxDigits {
			return c.number(now, out)
		}
		return c.startTimer(now, n.c.interDigit, out)
	}
	return out
}

var digitStrings = [...]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"}

func digitString(d byte) string { return digitStrings[digitIndex(d)] }

func (c *Call) chooseLanguage(now time.Time, l Lang, next string, out []Action) []Action {
	if l != c.lang {
		c.setLang(l)
		out = append(out, SetLanguage{l})
	}
	return c.goTo(now, next, out)
}

// number handles a keyed number (terminator, max digits or inter-digit timeout).
func (c *Call) number(now time.Time, out []Action) []Action {
	n := c.node
	if c.nd < n.c.minDigits {
		return c.retry(now, c.nd == 0, out)
	}
	num := string(c.digits[:c.nd])
	c.nd = 0
	if n.Kind == KindCollect {
		if c.vars == nil {
			c.vars = map[string]string{}
		}
		c.vars[n.Into] = num
		return c.goTo(now, n.Next, out)
	}
	c.phase = phaseLookup
	c.target = num
	out = append(out, LookupTicket{Number: num, Language: c.lang})
	return c.startTimer(now, n.c.lookup, out)
}

func (c *Call) timeout(now time.Time, out []Action) []Action {
	n := c.node
	switch c.phase {
	case phaseWaiting:
		if c.nd > 0 { // inter-digit timeout: take what was keyed
			return c.number(now, out)
		}
		if n.Kind == KindLanguage { // no key: the default language
			return c.defaultLanguage(now, out)
		}
		return c.retry(now, true, out)
	case phaseLookup:
		c.viaFallbck = true
		return c.goTo(now, n.Fallback, out)
	}
	return out
}

// defaultLanguage leaves a language node with its default language: where that language's
// choice leads, or the node's next.
func (c *Call) defaultLanguage(now time.Time, out []Action) []Action {
	n := c.node
	l, next := n.defaultLanguage(c.menu), n.Next
	for i := range n.Choices {
		if ch := &n.Choices[i]; ch.Language == l && ch.Next != "" {
			next = ch.Next
			break
		}
	}
	return c.chooseLanguage(now, l, next, out)
}

func (n *Node) defaultLanguage(m *Menu) Lang {
	if n.DefaultLanguage != "" {
		return n.DefaultLanguage
	}
	return m.defaultLang()
}

// retry counts a failed attempt at an input node: the prompt again (after the invalid or
// no-input prompt), or the fallback once the retries are used up.
func (c *Call) retry(now time.Time, noInput bool, out []Action) []Action {
	n := c.node
	c.attempts++
	c.nd = 0
	if c.attempts > n.c.retries {
		if n.Kind == KindLanguage {
			return c.defaultLanguage(now, out)
		}
		c.viaFallbck = true
		return c.goTo(now, n.Fallback, out)
	}
	p := &n.c.play[c.li]
	prompts := p.invalid
	if noInput {
		prompts = p.noInput
	}
	return c.startPlay(now, prompts, n.c.bargeIn, afterInput, out)
}

func (c *Call) lookupResult(now time.Time, r LookupResult, out []Action) []Action {
	n := c.node
	if r.Number != "" && r.Number != c.target {
		return nil
	}
	out = c.cancelTimer(out)
	switch r.Status {
	case LookupFound:
		c.found = true
		c.target = n.Next
		it, key := n.c.found[c.li], n.c.foundKey[c.li]
		ref := PromptRef{Key: key, Lang: c.lang, Audio: it.Audio, Dynamic: true,
			Text: fillTicket(it.Text, r.Number, r.Ticket, c.lang, c.menu.Location())}
		return c.startPlay(now, []PromptRef{ref}, false, afterGo, out)
	case LookupNotFound:
		c.attempts++
		p := &n.c.play[c.li]
		if c.attempts > n.c.retries {
			c.viaFallbck = true
			c.target = n.Fallback
			return c.startPlay(now, p.unknownLast, false, afterGo, out)
		}
		return c.startPlay(now, p.unknownRetry, n.c.bargeIn, afterInput, out)
	default:
		c.viaFallbck = true
		return c.goTo(now, n.Fallback, out)
	}
}
