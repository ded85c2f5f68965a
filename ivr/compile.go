package ivr

import (
	"slices"
	"strings"
	"time"
)

// compiled is what the interpreter needs from a node, prepared once per menu version so that a
// step allocates little: the prompt lists for each language, the key table, and the defaults
// resolved.
type compiled struct {
	keys       [12]uint8 // menu: option index+1 by key; language: choice index+1
	play       [3]plays  // by langIndex
	found      [3]PromptItem
	foundKey   [3]PromptKey
	bargeIn    bool
	retries    int
	timeout    time.Duration
	interDigit time.Duration
	lookup     time.Duration
	minDigits  int
	maxDigits  int
	terminator byte
	escape     byte
	windows    []window
	holidays   map[string]bool
}

type plays struct {
	main         []PromptRef // the node's prompt (language: lead-in and the announcements)
	invalid      []PromptRef // invalid, then main
	noInput      []PromptRef // no_input, then main
	unknownRetry []PromptRef // unknown, then main
	unknownLast  []PromptRef // unknown alone
}

type window struct {
	days     uint8 // bit per time.Weekday
	from, to int   // minutes of the day
}

// PromptKey names one prompt of a menu: its path in the document, such as
// "nodes.welcome.prompt.pl" or "nodes.language.choices.1.announce". It is the key of the map
// of rendered files that prompt.Renderer.RenderMenu returns.
type PromptKey string

// PromptRef is one prompt to play. A static prompt (Dynamic false) was rendered at publish
// time: play the file rendered for Key. A dynamic one (a ticket status answer) carries its text,
// to be rendered when it is needed.
type PromptRef struct {
	Key     PromptKey `json:"key,omitempty"`
	Lang    Lang      `json:"lang"`
	Text    string    `json:"text,omitempty"`
	Audio   string    `json:"audio,omitempty"`
	Dynamic bool      `json:"dynamic,omitempty"`
}

// digitIndex maps a DTMF key to 0..11 ('0'-'9', '*', '#'), or -1.
func digitIndex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c == '*':
		return 10
	case c == '#':
		return 11
	}
	return -1
}

func validDigit(s string) bool { return len(s) == 1 && digitIndex(s[0]) >= 0 }

// compile prepares the menu for the interpreter. It tolerates any menu, valid or not.
func (m *Menu) compile() {
	if m.Nodes == nil {
		m.Nodes = map[string]*Node{}
	}
	if len(m.order) != len(m.Nodes) {
		m.order = m.order[:0]
		for id := range m.Nodes {
			m.order = append(m.order, id)
		}
		slices.Sort(m.order)
	}
	tz := m.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		m.loc = loc
	} else {
		m.loc = nil
	}
	for _, id := range m.order {
		n := m.Nodes[id]
		if n == nil {
			n = &Node{}
			m.Nodes[id] = n
		}
		n.ID = id
		m.compileNode(n)
	}
}

func (m *Menu) defaultLang() Lang {
	if m.DefaultLanguage != "" {
		return m.DefaultLanguage
	}
	if len(m.Languages) > 0 {
		return m.Languages[0]
	}
	return LangPL
}

func (m *Menu) compileNode(n *Node) {
	c := &n.c
	*c = compiled{}
	c.bargeIn = n.Kind != KindPlay && n.Kind != KindQueue && n.Kind != KindHangUp && n.Kind != KindCallback
	if n.BargeIn != nil {
		c.bargeIn = *n.BargeIn
	}
	c.retries = DefaultRetries
	if n.Retries != nil {
		c.retries = *n.Retries
	}
	c.timeout = orDefault(n.Timeout, DefaultTimeout)
	c.interDigit = orDefault(n.InterDigitTimeout, DefaultInterDigitTimeout)
	c.lookup = orDefault(n.LookupTimeout, DefaultLookupTimeout)
	c.minDigits = max(n.MinDigits, 1)
	c.maxDigits = n.MaxDigits
	if c.maxDigits <= 0 || c.maxDigits > maxDigitsLimit {
		c.maxDigits = maxDigitsLimit
	}
	c.terminator = DefaultTerminator[0]
	if len(n.Terminator) == 1 {
		c.terminator = n.Terminator[0]
	}
	if len(n.EscapeDigit) == 1 {
		c.escape = n.EscapeDigit[0]
	}
	for i, o := range n.Options {
		if len(o.Digit) == 1 {
			if k := digitIndex(o.Digit[0]); k >= 0 && c.keys[k] == 0 {
				c.keys[k] = uint8(i + 1)
			}
		}
	}
	for i, ch := range n.Choices {
		if len(ch.Digit) == 1 {
			if k := digitIndex(ch.Digit[0]); k >= 0 && c.keys[k] == 0 {
				c.keys[k] = uint8(i + 1)
			}
		}
	}
	base := nodePath(n.ID)
	for li, l := range SupportedLangs {
		p := &c.play[li]
		p.main = m.refs(base+".prompt", n.Prompt, l)
		if n.Kind == KindLanguage {
			for i, ch := range n.Choices {
				if ch.Announce == (PromptItem{}) {
					continue
				}
				p.main = append(p.main, PromptRef{
					Key:  PromptKey(index(base+".choices", i) + ".announce"),
					Lang: ch.Language, Text: ch.Announce.Text, Audio: ch.Announce.Audio,
				})
			}
		}
		p.invalid = concat(m.refs(base+".invalid", n.Invalid, l), p.main)
		p.noInput = concat(m.refs(base+".no_input", n.NoInput, l), p.main)
		p.unknownLast = m.refs(base+".unknown", n.Unknown, l)
		p.unknownRetry = concat(p.unknownLast, p.main)
		if it, key, ok := m.item(base+".found", n.Found, l); ok {
			c.found[li], c.foundKey[li] = it, key
		}
	}
	if n.Kind == KindHours {
		for _, w := range n.Schedule {
			var cw window
			for _, d := range w.Days {
				if wd, ok := parseWeekday(d); ok {
					cw.days |= 1 << wd
				}
			}
			f, ok1 := parseClock(w.From)
			t, ok2 := parseClock(w.To)
			if ok1 && ok2 {
				cw.from, cw.to = f, t
				c.windows = append(c.windows, cw)
			}
		}
		c.holidays = map[string]bool{}
		for _, h := range n.Holidays {
			c.holidays[h] = true
		}
	}
}

const maxDigitsLimit = 32

func orDefault(d Duration, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return time.Duration(d)
}

func concat(a, b []PromptRef) []PromptRef {
	if len(a) == 0 {
		return b
	}
	return append(append(make([]PromptRef, 0, len(a)+len(b)), a...), b...)
}

// item picks the prompt for language l, falling back to the menu's default language and then
// to any language, so that a call never goes silent on an incomplete menu.
func (m *Menu) item(path string, p Prompt, l Lang) (PromptItem, PromptKey, bool) {
	if len(p) == 0 {
		return PromptItem{}, "", false
	}
	try := append([]Lang{l, m.defaultLang()}, SupportedLangs...)
	for _, t := range try {
		if it, ok := p[t]; ok && it != (PromptItem{}) {
			return it, PromptKey(path + "." + string(t)), true
		}
	}
	return PromptItem{}, "", false
}

func (m *Menu) refs(path string, p Prompt, l Lang) []PromptRef {
	it, key, ok := m.item(path, p, l)
	if !ok {
		return nil
	}
	lang := Lang(strings.TrimPrefix(string(key), path+"."))
	return []PromptRef{{Key: key, Lang: lang, Text: it.Text, Audio: it.Audio}}
}

// parseClock reads "HH:MM" (00:00 to 24:00) as minutes of the day.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	mi := int(s[3]-'0')*10 + int(s[4]-'0')
	if mi > 59 || h > 24 || (h == 24 && mi != 0) {
		return 0, false
	}
	return h*60 + mi, true
}

// StaticPrompt is one prompt of a menu that can be rendered ahead of time.
type StaticPrompt struct {
	Key  PromptKey
	Lang Lang
	Item PromptItem
}

// Prompts lists every prompt of the menu that can be rendered ahead of time, in document order:
// all but the ticket status answers, whose text is only known during the call.
func (m *Menu) Prompts() []StaticPrompt {
	var out []StaticPrompt
	add := func(path string, p Prompt) {
		for _, l := range SupportedLangs {
			if it, ok := p[l]; ok && it != (PromptItem{}) {
				out = append(out, StaticPrompt{Key: PromptKey(path + "." + string(l)), Lang: l, Item: it})
			}
		}
	}
	for _, id := range m.order {
		n := m.Nodes[id]
		base := nodePath(id)
		add(base+".prompt", n.Prompt)
		add(base+".no_input", n.NoInput)
		add(base+".invalid", n.Invalid)
		add(base+".unknown", n.Unknown)
		for i, ch := range n.Choices {
			if ch.Announce != (PromptItem{}) {
				out = append(out, StaticPrompt{Key: PromptKey(index(base+".choices", i) + ".announce"), Lang: ch.Language, Item: ch.Announce})
			}
		}
	}
	return out
}
