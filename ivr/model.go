// Package ivr is Kontakt's IVR core: the menu document (a versioned JSON document an
// administrator edits), its decoder and validator, and the per-call interpreter, a pure state
// machine driven by the ARI adapter (events and the current time in, actions out).
//
// Nothing here reads the clock, starts goroutines or does I/O; prompt rendering lives in
// ivr/prompt and the dry run in ivr/replay. See README.md beside this file.
package ivr

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	// The menu's time zone (Europe/Warsaw) is loaded with time.LoadLocation. Embedding the zone
	// database keeps hours nodes correct on a machine without /usr/share/zoneinfo (~450 KB).
	_ "time/tzdata"
)

// Lang is a language a caller can be served in (ISO 639-1).
type Lang string

const (
	LangPL Lang = "pl"
	LangEN Lang = "en"
	LangUK Lang = "uk"
)

// SupportedLangs are the languages Kontakt has voices for, in menu order.
var SupportedLangs = []Lang{LangPL, LangEN, LangUK}

// langIndex returns the index of l in SupportedLangs, or -1.
func langIndex(l Lang) int {
	switch l {
	case LangPL:
		return 0
	case LangEN:
		return 1
	case LangUK:
		return 2
	}
	return -1
}

// LangName is the English name of a language, for messages.
func LangName(l Lang) string {
	switch l {
	case LangPL:
		return "Polish"
	case LangEN:
		return "English"
	case LangUK:
		return "Ukrainian"
	}
	return string(l)
}

// Kind is the kind of a menu node.
type Kind uint8

const (
	KindUnknown Kind = iota
	KindPlay
	KindMenu
	KindLanguage
	KindCollect
	KindQueue
	KindTicketStatus
	KindCallback
	KindHours
	KindGoto
	KindHangUp
)

var kindNames = [...]string{
	KindUnknown:      "unknown",
	KindPlay:         "play",
	KindMenu:         "menu",
	KindLanguage:     "language",
	KindCollect:      "collect",
	KindQueue:        "queue",
	KindTicketStatus: "ticket_status",
	KindCallback:     "callback",
	KindHours:        "hours",
	KindGoto:         "goto",
	KindHangUp:       "hangup",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind returns the kind named s, or KindUnknown.
func ParseKind(s string) Kind {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i)
		}
	}
	return KindUnknown
}

func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k *Kind) UnmarshalText(b []byte) error {
	*k = ParseKind(string(b))
	if *k == KindUnknown {
		return fmt.Errorf("unknown node kind %q", b)
	}
	return nil
}

// waitsForCaller reports whether a node of this kind waits for the caller's keys, which is
// what makes a loop through it a loop the caller can leave.
func (k Kind) waitsForCaller() bool {
	switch k {
	case KindMenu, KindLanguage, KindCollect, KindTicketStatus:
		return true
	}
	return false
}

// Duration is a time.Duration written as a Go duration string ("5s", "1500ms").
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// PromptItem is one prompt in one language: text to be spoken (rendered to audio at publish
// time) or a reference to an uploaded recording (WAV, MP3 or OGG). Exactly one is set.
type PromptItem struct {
	Text  string `json:"text,omitempty"`
	Audio string `json:"audio,omitempty"`
}

// Prompt is a prompt in each of the menu's languages.
type Prompt map[Lang]PromptItem

// Option is one key of a menu node.
type Option struct {
	Digit  string `json:"digit"`
	Next   string `json:"next,omitempty"`
	Repeat bool   `json:"repeat,omitempty"` // plays the menu again instead of going on
}

// Choice is one key of a language node. Announce is spoken in Language itself
// ("For English, press 2").
type Choice struct {
	Digit    string     `json:"digit"`
	Language Lang       `json:"language"`
	Announce PromptItem `json:"announce"`
	Next     string     `json:"next,omitempty"` // defaults to the node's next
}

// Window is a weekly opening window in the menu's time zone: on each of Days, from From up to
// (not including) To, both "HH:MM" ("24:00" allowed for To).
type Window struct {
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// Node is one step of a menu. Which fields apply depends on Kind (see README.md); the decoder
// refuses fields a kind does not use.
type Node struct {
	ID          string `json:"-"`
	Kind        Kind   `json:"kind"`
	Description string `json:"description,omitempty"`

	Prompt  Prompt `json:"prompt,omitempty"`
	Next    string `json:"next,omitempty"`
	BargeIn *bool  `json:"barge_in,omitempty"`

	// input handling (menu, language, collect, ticket_status)
	Timeout  Duration `json:"timeout,omitempty"`
	Retries  *int     `json:"retries,omitempty"`
	NoInput  Prompt   `json:"no_input,omitempty"`
	Invalid  Prompt   `json:"invalid,omitempty"`
	Fallback string   `json:"fallback,omitempty"`

	// menu
	Options []Option `json:"options,omitempty"`

	// language
	Choices         []Choice `json:"choices,omitempty"`
	DefaultLanguage Lang     `json:"default_language,omitempty"`

	// collect, ticket_status
	MinDigits         int      `json:"min_digits,omitempty"`
	MaxDigits         int      `json:"max_digits,omitempty"`
	Terminator        string   `json:"terminator,omitempty"`
	InterDigitTimeout Duration `json:"inter_digit_timeout,omitempty"`
	Into              string   `json:"into,omitempty"`

	// ticket_status
	Found         Prompt   `json:"found,omitempty"`
	Unknown       Prompt   `json:"unknown,omitempty"`
	LookupTimeout Duration `json:"lookup_timeout,omitempty"`
	EscapeDigit   string   `json:"escape_digit,omitempty"`
	EscapeNext    string   `json:"escape_next,omitempty"`

	// queue, callback
	Queue    string   `json:"queue,omitempty"`
	Skills   []string `json:"skills,omitempty"`
	Language Lang     `json:"language,omitempty"`
	Priority int      `json:"priority,omitempty"`

	// callback
	NumberFrom string `json:"number_from,omitempty"`

	// hours
	Schedule []Window `json:"schedule,omitempty"`
	Holidays []string `json:"holidays,omitempty"`
	Open     string   `json:"open,omitempty"`
	Closed   string   `json:"closed,omitempty"`
	Holiday  string   `json:"holiday,omitempty"`

	// compiled by Decode
	c compiled
}

// Defaults applied where a node leaves a field out.
const (
	DefaultTimeout           = 5 * time.Second
	DefaultInterDigitTimeout = 4 * time.Second
	DefaultLookupTimeout     = 5 * time.Second
	DefaultRetries           = 2
	DefaultTerminator        = "#"
	DefaultTimezone          = "Europe/Warsaw"
)

// Format is the menu document format this package reads.
const Format = 1

// Menu is one version of a menu document. A decoded Menu is never changed again: a call holds
// the *Menu it started with to its end, whatever is published meanwhile.
type Menu struct {
	Format          int              `json:"format"`
	ID              string           `json:"id"`
	Version         int              `json:"version"`
	Name            string           `json:"name,omitempty"`
	Description     string           `json:"description,omitempty"`
	Languages       []Lang           `json:"languages"`
	DefaultLanguage Lang             `json:"default_language"`
	Timezone        string           `json:"timezone,omitempty"`
	Start           string           `json:"start"`
	Nodes           map[string]*Node `json:"nodes"`

	order []string       // node ids in document order
	loc   *time.Location // Timezone, loaded
}

// NodeIDs returns the node ids in document order.
func (m *Menu) NodeIDs() []string { return append([]string(nil), m.order...) }

// Location is the menu's time zone (Europe/Warsaw unless the document says otherwise).
func (m *Menu) Location() *time.Location {
	if m.loc == nil {
		return time.UTC
	}
	return m.loc
}

// Queues returns the queue ids the menu routes to (queue and callback nodes), sorted, once each.
func (m *Menu) Queues() []string {
	return m.collect(func(n *Node) []string {
		if n.Queue != "" {
			return []string{n.Queue}
		}
		return nil
	})
}

// Skills returns the skills the menu's queue nodes ask for, sorted, once each.
func (m *Menu) Skills() []string {
	return m.collect(func(n *Node) []string { return n.Skills })
}

func (m *Menu) collect(f func(*Node) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range m.order {
		for _, s := range f(m.Nodes[id]) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// MarshalJSON writes the menu document (nodes sorted by id).
func (m *Menu) MarshalJSON() ([]byte, error) {
	type plain Menu
	return json.Marshal((*plain)(m))
}

// nodePath is the document path of a node.
func nodePath(id string) string { return "nodes." + id }

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for i, d := range weekdays {
		if d == s {
			return time.Weekday(i), true
		}
	}
	return 0, false
}
