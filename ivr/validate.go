package ivr

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Catalog is what the menu may route to: the queue ids and skills the ACD knows. Validate with
// a nil catalog skips the queue and skill checks (a draft being edited offline).
type Catalog struct {
	Queues []string `json:"queues"`
	Skills []string `json:"skills"`
}

var (
	nodeIDRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	varNameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	placeRe    = regexp.MustCompile(`\{[^{}]*\}`)
	audioExtRe = regexp.MustCompile(`(?i)\.(wav|mp3|ogg)$`)
)

// Placeholders a ticket status "found" prompt may use.
var Placeholders = []string{"{number}", "{status}", "{category}", "{unit}", "{updated}"}

// Timeout ranges.
var (
	timeoutRange    = [2]time.Duration{time.Second, 60 * time.Second}
	interDigitRange = [2]time.Duration{time.Second, 30 * time.Second}
	lookupRange     = [2]time.Duration{time.Second, 30 * time.Second}
)

const maxRetries = 9
const maxPriority = 100

// Validate checks what the menu means: every problem at once, each located by its path, in
// document order. A menu with problems must not be published. Validate does not change m.
func (m *Menu) Validate(cat *Catalog) Problems {
	if m.loc == nil && m.order == nil {
		m.compile() // a menu built in Go rather than decoded
	}
	v := &validator{m: m, cat: cat, declared: map[Lang]bool{}}
	v.top()
	for _, id := range m.order {
		v.node(m.Nodes[id])
	}
	v.graph()
	return v.p.list
}

type validator struct {
	m        *Menu
	cat      *Catalog
	p        problems
	declared map[Lang]bool
	vars     map[string]bool
}

func (v *validator) top() {
	m := v.m
	if m.Format != 0 && m.Format != Format {
		v.p.add("format", CodeBadValue, "this Kontakt reads menu format %d, not %d", Format, m.Format)
	}
	if strings.TrimSpace(m.ID) == "" {
		v.p.add("id", CodeMissingField, "the menu has no id (such as \"19115\")")
	}
	if m.Version < 0 {
		v.p.add("version", CodeBadValue, "the version cannot be negative")
	}
	if len(m.Languages) == 0 {
		v.p.add("languages", CodeMissingField, "the menu declares no languages; list them, such as [\"pl\", \"en\", \"uk\"]")
	}
	for i, l := range m.Languages {
		p := index("languages", i)
		switch {
		case langIndex(l) < 0:
			v.p.add(p, CodeUnknownLanguage, "%q is not a language Kontakt has a voice for (pl, en, uk)", l)
		case v.declared[l]:
			v.p.add(p, CodeBadValue, "%s is listed twice", LangName(l))
		}
		v.declared[l] = true
	}
	if m.DefaultLanguage != "" && len(m.Languages) > 0 && !v.declared[m.DefaultLanguage] {
		v.p.add("default_language", CodeUnknownLanguage, "the default language %q is not one of the menu's languages", m.DefaultLanguage)
	}
	if m.Timezone != "" && m.loc == nil {
		v.p.add("timezone", CodeBadValue, "%q is not a time zone this machine knows (such as \"Europe/Warsaw\")", m.Timezone)
	}
	if m.Start == "" {
		v.p.add("start", CodeMissingField, "the menu does not say which node callers hear first")
	} else if m.Nodes[m.Start] == nil {
		v.p.add("start", CodeDanglingReference, "the first node %q does not exist", m.Start)
	}
	if len(m.Nodes) == 0 {
		v.p.add("nodes", CodeMissingField, "the menu has no nodes")
	}
	v.vars = map[string]bool{}
	for _, n := range m.Nodes {
		if n.Kind == KindCollect && n.Into != "" {
			v.vars[n.Into] = true
		}
	}
}

func (v *validator) missing(path, what string) {
	v.p.add(path, CodeMissingField, "%s", what)
}

func (v *validator) node(n *Node) {
	base := nodePath(n.ID)
	f := func(s string) string { return join(base, s) }
	if !nodeIDRe.MatchString(n.ID) {
		v.p.add(base, CodeBadNodeID, "node id %q may only use letters, digits, _ and - (at most 64)", n.ID)
	}
	if n.Kind == KindUnknown {
		// Load hides this behind the decoder's own problem with the kind
		v.p.add(f("kind"), CodeUnknownKind, "the node has no valid kind; nothing else in it can be checked")
		return
	}
	needNext := func(field, what string) {
		if field == "" {
			v.missing(f("next"), what)
		}
	}
	switch n.Kind {
	case KindPlay:
		v.prompt(f("prompt"), n.Prompt, true, false)
		needNext(n.Next, "a play node needs next: the node callers go to after the prompt")
	case KindMenu:
		v.prompt(f("prompt"), n.Prompt, true, false)
		v.input(n, f)
		if len(n.Options) == 0 {
			v.missing(f("options"), "a menu node needs at least one option")
		}
		seen := map[string]int{}
		for i, o := range n.Options {
			op := index(f("options"), i)
			v.digit(join(op, "digit"), o.Digit)
			if j, dup := seen[o.Digit]; dup && validDigit(o.Digit) {
				v.p.add(op, CodeDuplicateDigit, "key %s is already used by option %d; each key can do one thing", o.Digit, j)
			} else {
				seen[o.Digit] = i
			}
			switch {
			case o.Repeat && o.Next != "":
				v.p.add(op, CodeBadValue, "an option either repeats the menu or goes to next, not both")
			case !o.Repeat && o.Next == "":
				v.missing(join(op, "next"), "the option does not say where it leads (next) and does not repeat the menu")
			}
		}
		if n.Fallback == "" {
			v.missing(f("fallback"), "a menu node needs a fallback: where callers go after too many wrong or missing keys")
		}
	case KindLanguage:
		if len(n.Prompt) > 0 {
			v.prompt(f("prompt"), n.Prompt, false, false)
		}
		v.input(n, f)
		if len(n.Choices) == 0 {
			v.missing(f("choices"), "a language node needs at least one choice")
		}
		seen := map[string]int{}
		for i, ch := range n.Choices {
			cp := index(f("choices"), i)
			v.digit(join(cp, "digit"), ch.Digit)
			if j, dup := seen[ch.Digit]; dup && validDigit(ch.Digit) {
				v.p.add(cp, CodeDuplicateDigit, "key %s is already used by choice %d; each key can do one thing", ch.Digit, j)
			} else {
				seen[ch.Digit] = i
			}
			switch {
			case ch.Language == "":
				v.missing(join(cp, "language"), "the choice does not say which language it sets")
			case !v.declared[ch.Language] && langIndex(ch.Language) >= 0:
				v.p.add(join(cp, "language"), CodeUnknownLanguage, "%s is not one of the menu's languages", LangName(ch.Language))
			}
			if ch.Announce == (PromptItem{}) {
				v.missing(join(cp, "announce"), fmt.Sprintf("the choice needs an announcement in %s, such as \"For English, press 2\"", LangName(ch.Language)))
			} else {
				v.item(join(cp, "announce"), ch.Announce, false)
			}
			if ch.Next == "" && n.Next == "" {
				v.missing(join(cp, "next"), "the choice does not say where it leads: give next here or on the node")
			}
		}
		if n.Next == "" {
			def := n.defaultLanguage(v.m)
			ok := false
			for _, ch := range n.Choices {
				ok = ok || (ch.Language == def && ch.Next != "")
			}
			if !ok {
				v.missing(f("next"), fmt.Sprintf("callers who press nothing get %s: say where they go (next here, or next on the %s choice)", LangName(def), LangName(def)))
			}
		}
		if n.DefaultLanguage != "" && !v.declared[n.DefaultLanguage] && langIndex(n.DefaultLanguage) >= 0 {
			v.p.add(f("default_language"), CodeUnknownLanguage, "%s is not one of the menu's languages", LangName(n.DefaultLanguage))
		}
	case KindCollect:
		v.prompt(f("prompt"), n.Prompt, true, false)
		v.input(n, f)
		v.digits(n, f)
		if n.Into == "" {
			v.missing(f("into"), "a collect node needs into: the name under which the keyed number is kept, such as \"callback_number\"")
		} else if !varNameRe.MatchString(n.Into) {
			v.p.add(f("into"), CodeBadValue, "%q is not a usable name: lower-case letters, digits and _, starting with a letter", n.Into)
		}
		needNext(n.Next, "a collect node needs next: where callers go once the number is keyed")
		if n.Fallback == "" {
			v.missing(f("fallback"), "a collect node needs a fallback: where callers go after too many failed attempts")
		}
	case KindTicketStatus:
		v.prompt(f("prompt"), n.Prompt, true, false)
		v.input(n, f)
		v.digits(n, f)
		v.prompt(f("found"), n.Found, true, true)
		v.prompt(f("unknown"), n.Unknown, true, false)
		v.timeout(f("lookup_timeout"), n.LookupTimeout, lookupRange)
		term := n.Terminator
		if term == "" {
			term = DefaultTerminator
		}
		switch {
		case n.EscapeDigit == "" && n.EscapeNext != "":
			v.missing(f("escape_digit"), "escape_next is set but no escape_digit says which key leads there")
		case n.EscapeDigit != "":
			switch {
			case !validDigit(n.EscapeDigit):
				v.digit(f("escape_digit"), n.EscapeDigit)
			case n.EscapeDigit[0] >= '0' && n.EscapeDigit[0] <= '9':
				v.p.add(f("escape_digit"), CodeBadDigit, "the escape key must be * or #: digits are part of ticket numbers")
			case n.EscapeDigit == term:
				v.p.add(f("escape_digit"), CodeBadDigit, "the escape key %s is also the key that ends the number", n.EscapeDigit)
			}
			if n.EscapeNext == "" {
				v.missing(f("escape_next"), "escape_digit is set but escape_next does not say where it leads")
			}
		}
		needNext(n.Next, "a ticket status node needs next: where callers go after hearing the status")
		if n.Fallback == "" {
			v.missing(f("fallback"), "a ticket status node needs a fallback, such as a consultant's queue")
		}
	case KindQueue:
		if len(n.Prompt) > 0 {
			v.prompt(f("prompt"), n.Prompt, false, false)
		}
		v.queue(f("queue"), n.Queue, true)
		seen := map[string]bool{}
		for i, s := range n.Skills {
			sp := index(f("skills"), i)
			switch {
			case strings.TrimSpace(s) == "":
				v.p.add(sp, CodeBadValue, "an empty skill")
			case seen[s]:
				v.p.add(sp, CodeBadValue, "skill %q is listed twice", s)
			case v.cat != nil && !slices.Contains(v.cat.Skills, s):
				v.p.add(sp, CodeUnknownSkill, "no consultant skill is called %q; known skills: %s", s, list(v.cat.Skills))
			}
			seen[s] = true
		}
		if n.Language != "" && !v.declared[n.Language] && langIndex(n.Language) >= 0 {
			v.p.add(f("language"), CodeUnknownLanguage, "%s is not one of the menu's languages", LangName(n.Language))
		}
		if n.Priority < 0 || n.Priority > maxPriority {
			v.p.add(f("priority"), CodeBadValue, "priority must be between 0 and %d", maxPriority)
		}
	case KindCallback:
		if len(n.Prompt) > 0 {
			v.prompt(f("prompt"), n.Prompt, false, false)
		}
		v.queue(f("queue"), n.Queue, false)
		if n.NumberFrom != "" && n.NumberFrom != "caller" && !v.vars[n.NumberFrom] {
			v.p.add(f("number_from"), CodeUnknownVariable, "no collect node fills %q; use \"caller\" for the number the call comes from, or the into of a collect node", n.NumberFrom)
		}
		needNext(n.Next, "a callback node needs next: where callers go once the callback is booked")
	case KindHours:
		v.hours(n, f)
	case KindGoto:
		needNext(n.Next, "a goto node needs next: the node it jumps to")
	case KindHangUp:
		if len(n.Prompt) > 0 {
			v.prompt(f("prompt"), n.Prompt, false, false)
		}
	}
	for _, r := range n.refs() {
		if r.to != "" && v.m.Nodes[r.to] == nil {
			v.p.add(join(base, r.field), CodeDanglingReference, "leads to node %q, which does not exist%s", r.to, suggest(r.to, v.m.order))
		}
	}
}

func suggest(s string, ids []string) string {
	if c := closest(s, ids); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

func (v *validator) queue(path, q string, required bool) {
	switch {
	case q == "":
		if required {
			v.missing(path, "a queue node needs queue: the id of the consultant queue")
		}
	case v.cat != nil && !slices.Contains(v.cat.Queues, q):
		v.p.add(path, CodeUnknownQueue, "no queue is called %q; known queues: %s", q, list(v.cat.Queues))
	}
}

func (v *validator) digit(path, d string) {
	switch {
	case d == "":
		v.missing(path, "no key given: use one of 0-9, * or #")
	case !validDigit(d):
		v.p.add(path, CodeBadDigit, "%q is not a phone key: use one of 0-9, * or #", d)
	}
}

func (v *validator) timeout(path string, d Duration, r [2]time.Duration) {
	if d == 0 {
		return
	}
	if t := time.Duration(d); t < r[0] || t > r[1] {
		v.p.add(path, CodeBadTimeout, "%s is outside the sensible range %s to %s", t, r[0], r[1])
	}
}

// input checks what every node that waits for keys shares.
func (v *validator) input(n *Node, f func(string) string) {
	v.timeout(f("timeout"), n.Timeout, timeoutRange)
	if n.Retries != nil && (*n.Retries < 0 || *n.Retries > maxRetries) {
		v.p.add(f("retries"), CodeBadValue, "retries must be between 0 and %d", maxRetries)
	}
	if len(n.NoInput) > 0 {
		v.prompt(f("no_input"), n.NoInput, false, false)
	}
	if len(n.Invalid) > 0 {
		v.prompt(f("invalid"), n.Invalid, false, false)
	}
}

// digits checks a node that collects a number.
func (v *validator) digits(n *Node, f func(string) string) {
	v.timeout(f("inter_digit_timeout"), n.InterDigitTimeout, interDigitRange)
	if n.MaxDigits == 0 && n.Kind == KindCollect {
		v.missing(f("max_digits"), "a collect node needs max_digits: the longest number a caller may key")
	}
	if n.MaxDigits < 0 || n.MaxDigits > maxDigitsLimit {
		v.p.add(f("max_digits"), CodeBadRange, "max_digits must be between 1 and %d", maxDigitsLimit)
	}
	if n.MinDigits < 0 || n.MinDigits > maxDigitsLimit {
		v.p.add(f("min_digits"), CodeBadRange, "min_digits must be between 1 and %d", maxDigitsLimit)
	} else if n.MaxDigits > 0 && n.MinDigits > n.MaxDigits {
		v.p.add(f("min_digits"), CodeBadRange, "min_digits (%d) is more than max_digits (%d)", n.MinDigits, n.MaxDigits)
	}
	if n.Terminator != "" && n.Terminator != "#" && n.Terminator != "*" {
		v.p.add(f("terminator"), CodeBadDigit, "%q cannot end a number: use # or *", n.Terminator)
	}
}

// prompt checks a prompt given in each of the menu's languages.
func (v *validator) prompt(path string, p Prompt, required, template bool) {
	if len(p) == 0 {
		if required {
			v.missing(path, "no prompt: give what callers hear, in each of the menu's languages")
		}
		return
	}
	for _, l := range v.m.Languages {
		if langIndex(l) < 0 {
			continue
		}
		if _, ok := p[l]; !ok {
			v.p.add(join(path, string(l)), CodeMissingPrompt, "no %s prompt: callers served in %s would hear nothing here", LangName(l), LangName(l))
		}
	}
	for _, l := range SupportedLangs {
		it, ok := p[l]
		if !ok {
			continue
		}
		lp := join(path, string(l))
		if !v.declared[l] && len(v.m.Languages) > 0 {
			v.p.add(lp, CodeUnknownLanguage, "the menu does not declare %s; add it to languages or remove this prompt", LangName(l))
			continue
		}
		v.item(lp, it, template)
	}
	for l := range p {
		if langIndex(l) < 0 {
			v.p.add(join(path, string(l)), CodeUnknownLanguage, "%q is not a language Kontakt has a voice for (pl, en, uk)", l)
		}
	}
}

func (v *validator) item(path string, it PromptItem, template bool) {
	switch {
	case it.Text != "" && it.Audio != "":
		v.p.add(path, CodeBadPrompt, "give either text or audio, not both")
		return
	case strings.TrimSpace(it.Text) == "" && it.Audio == "":
		v.p.add(path, CodeBadPrompt, "the prompt is empty: give text to be spoken or an uploaded recording")
		return
	case it.Audio != "":
		a := it.Audio
		if strings.HasPrefix(a, "/") || strings.Contains(a, "..") || strings.ContainsAny(a, "\\\x00") || !audioExtRe.MatchString(a) {
			v.p.add(join(path, "audio"), CodeBadPrompt, "%q is not an uploaded recording: a relative name ending in .wav, .mp3 or .ogg", a)
		}
		return
	}
	if len(it.Text) > 4000 {
		v.p.add(join(path, "text"), CodeBadPrompt, "the text is over 4000 characters; split it")
	}
	for _, ph := range placeRe.FindAllString(it.Text, -1) {
		switch {
		case !template:
			v.p.add(join(path, "text"), CodeBadPlaceholder, "%s is only filled in a ticket status answer (found); here it would be read out as it is", ph)
		case !slices.Contains(Placeholders, ph):
			v.p.add(join(path, "text"), CodeBadPlaceholder, "%s is not a placeholder; use %s", ph, strings.Join(Placeholders, ", "))
		}
	}
}

func (v *validator) hours(n *Node, f func(string) string) {
	if len(n.Schedule) == 0 {
		v.missing(f("schedule"), "an hours node needs a schedule: the weekly opening windows")
	}
	type span struct {
		i        int
		days     uint8
		from, to int
	}
	var spans []span
	for i, w := range n.Schedule {
		wp := index(f("schedule"), i)
		var days uint8
		if len(w.Days) == 0 {
			v.missing(join(wp, "days"), "the window names no days (mon, tue, wed, thu, fri, sat, sun)")
		}
		for j, d := range w.Days {
			wd, ok := parseWeekday(d)
			if !ok {
				v.p.add(index(join(wp, "days"), j), CodeBadDay, "%q is not a day: use mon, tue, wed, thu, fri, sat or sun", d)
				continue
			}
			days |= 1 << wd
		}
		from, ok1 := parseClock(w.From)
		to, ok2 := parseClock(w.To)
		if !ok1 {
			v.p.add(join(wp, "from"), CodeBadTime, "%q is not a time of day like \"08:00\"", w.From)
		}
		if !ok2 {
			v.p.add(join(wp, "to"), CodeBadTime, "%q is not a time of day like \"18:00\" (\"24:00\" for midnight)", w.To)
		}
		if !ok1 || !ok2 {
			continue
		}
		if from >= to {
			v.p.add(wp, CodeBadTime, "the window opens at %s but closes at %s; to cover midnight, use two windows", w.From, w.To)
			continue
		}
		for _, s := range spans {
			if common := s.days & days; common != 0 && s.from < to && from < s.to {
				v.p.add(wp, CodeScheduleOverlap, "%s–%s overlaps window %d (%s–%s) on %s", w.From, w.To, s.i,
					n.Schedule[s.i].From, n.Schedule[s.i].To, dayList(common))
			}
		}
		spans = append(spans, span{i, days, from, to})
	}
	seen := map[string]int{}
	for i, h := range n.Holidays {
		hp := index(f("holidays"), i)
		if _, err := time.Parse("2006-01-02", h); err != nil {
			v.p.add(hp, CodeBadDate, "%q is not a date like \"2026-12-25\"", h)
			continue
		}
		if j, dup := seen[h]; dup {
			v.p.add(hp, CodeDuplicateHoliday, "%s is already listed (holidays.%d)", h, j)
			continue
		}
		seen[h] = i
	}
	if n.Open == "" {
		v.missing(f("open"), "an hours node needs open: where callers go while the line is open")
	}
	if n.Closed == "" {
		v.missing(f("closed"), "an hours node needs closed: where callers go while the line is closed")
	}
}

func dayList(mask uint8) string {
	var s []string
	for _, wd := range []time.Weekday{1, 2, 3, 4, 5, 6, 0} {
		if mask&(1<<wd) != 0 {
			s = append(s, wd.String())
		}
	}
	return strings.Join(s, ", ")
}

type ref struct {
	field string // path under the node
	to    string
}

// refs lists the node's references to other nodes, with the field holding each.
func (n *Node) refs() []ref {
	var out []ref
	add := func(field, to string) {
		if to != "" {
			out = append(out, ref{field, to})
		}
	}
	add("next", n.Next)
	for i, o := range n.Options {
		add(index("options", i)+".next", o.Next)
	}
	for i, c := range n.Choices {
		add(index("choices", i)+".next", c.Next)
	}
	add("escape_next", n.EscapeNext)
	add("open", n.Open)
	add("closed", n.Closed)
	add("holiday", n.Holiday)
	add("fallback", n.Fallback)
	return out
}

// graph checks reachability and loops.
func (v *validator) graph() {
	m := v.m
	succ := make(map[string][]string, len(m.Nodes))
	for _, id := range m.order {
		for _, r := range m.Nodes[id].refs() {
			if m.Nodes[r.to] != nil {
				succ[id] = append(succ[id], r.to)
			}
		}
	}
	if m.Nodes[m.Start] != nil {
		seen := map[string]bool{m.Start: true}
		stack := []string{m.Start}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, s := range succ[id] {
				if !seen[s] {
					seen[s] = true
					stack = append(stack, s)
				}
			}
		}
		for _, id := range m.order {
			if !seen[id] {
				v.p.add(nodePath(id), CodeUnreachableNode, "no caller can reach this node: nothing leads here from the start (%s)", m.Start)
			}
		}
	}
	for _, scc := range components(m.order, succ) {
		cyclic := len(scc) > 1
		if !cyclic {
			for _, s := range succ[scc[0]] {
				cyclic = cyclic || s == scc[0]
			}
		}
		if !cyclic {
			continue
		}
		in := map[string]bool{}
		waits := false
		for _, id := range scc {
			in[id] = true
			waits = waits || m.Nodes[id].Kind.waitsForCaller()
		}
		names := strings.Join(scc, " → ") + " → " + scc[0]
		if !waits {
			v.p.add(nodePath(scc[0]), CodeLoopWithoutInput, "the call would go round %s forever: none of these nodes waits for a key", names)
			continue
		}
		exits := false
		for _, id := range scc {
			for _, s := range succ[id] {
				exits = exits || !in[s]
			}
		}
		if !exits {
			v.p.add(nodePath(scc[0]), CodeLoopWithoutExit, "callers who get to %s can never leave it except by hanging up: no key, timeout or fallback leads out to a queue or a hang-up", strings.Join(scc, ", "))
		}
	}
}

// components returns the strongly connected components (Tarjan), each in document order,
// ordered by their first node.
func components(order []string, succ map[string][]string) [][]string {
	pos := make(map[string]int, len(order))
	for i, id := range order {
		pos[id] = i
	}
	idx := map[string]int{}
	low := map[string]int{}
	on := map[string]bool{}
	var stack []string
	var out [][]string
	next := 0
	var visit func(string)
	visit = func(v string) {
		idx[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, w := range succ[v] {
			if _, seen := idx[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], idx[w])
			}
		}
		if low[v] == idx[v] {
			var c []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				c = append(c, w)
				if w == v {
					break
				}
			}
			sortByPos(c, pos)
			out = append(out, c)
		}
	}
	for _, id := range order {
		if _, seen := idx[id]; !seen {
			visit(id)
		}
	}
	sortComponents(out, pos)
	return out
}

func sortByPos(c []string, pos map[string]int) {
	slices.SortFunc(c, func(a, b string) int { return pos[a] - pos[b] })
}

func sortComponents(cs [][]string, pos map[string]int) {
	slices.SortFunc(cs, func(a, b []string) int { return pos[a[0]] - pos[b[0]] })
}
