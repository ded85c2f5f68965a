package ivr

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Decode reads a menu document strictly: unknown fields, wrong types and duplicate keys are
// problems, each with its path, line and column. It returns every problem it finds; the menu
// it returns holds whatever could be read (nil only when the JSON itself is unreadable).
// Decode does not check the menu's meaning: use Load, or Validate on the result.
func Decode(data []byte) (*Menu, Problems) {
	var p problems
	tree := parseTree(data, &p)
	if tree == nil {
		return nil, p.list
	}
	d := &decoder{p: &p, li: newLineIndex(data)}
	m := d.menu(tree)
	m.compile()
	return m, p.list
}

// Load decodes and validates a document: the problems of both, at once. A problem found while
// reading hides the validation problems at or under the same path, which would only repeat it.
// The menu is usable by NewCall only when there are no problems.
func Load(data []byte, cat *Catalog) (*Menu, Problems) {
	m, dp := Decode(data)
	if m == nil {
		return nil, dp
	}
	out := dp
	for _, v := range m.Validate(cat) {
		if !covered(dp, v.Path) {
			out = append(out, v)
		}
	}
	return m, out
}

func covered(ps Problems, path string) bool {
	for _, p := range ps {
		if p.Path == path || strings.HasPrefix(path, p.Path+".") || p.Path == "$" {
			return true
		}
	}
	return false
}

type decoder struct {
	p  *problems
	li lineIndex
}

func (d *decoder) addAt(v *jval, off int, path string, code Code, format string, args ...any) {
	d.p.add(path, code, format, args...)
	if v != nil {
		off = v.off
	}
	if off >= 0 {
		pr := &d.p.list[len(d.p.list)-1]
		pr.Line, pr.Column = d.li.pos(off)
	}
}

func (d *decoder) wrongType(v *jval, path, want string) {
	d.addAt(v, -1, path, CodeWrongType, "expected %s here, found %s", want, v.kind)
}

// fields checks that v is an object whose keys are all in allowed, reporting duplicates and
// unknown keys, and returns the first value of each allowed key present (null counts as absent).
func (d *decoder) fields(v *jval, path, what string, allowed []string) map[string]*jval {
	if v.kind != jObject {
		d.wrongType(v, path, "an object ("+what+")")
		return nil
	}
	out := make(map[string]*jval, len(v.obj))
	seen := make(map[string]bool, len(v.obj))
	for _, m := range v.obj {
		fp := join(path, m.key)
		if seen[m.key] {
			d.addAt(nil, m.off, fp, CodeDuplicateKey, "%q appears twice in %s; keep one", m.key, what)
			continue
		}
		seen[m.key] = true
		if !slices.Contains(allowed, m.key) {
			msg := fmt.Sprintf("%s has no field %q", what, m.key)
			if s := closest(m.key, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += "; it can have: " + strings.Join(allowed, ", ")
			}
			d.addAt(nil, m.off, fp, CodeUnknownField, "%s", msg)
			continue
		}
		if m.val.kind != jNull {
			out[m.key] = m.val
		}
	}
	return out
}

// closest returns the allowed name nearest to s when it is plausibly a typo.
func closest(s string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(s), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *decoder) str(v *jval, path string) string {
	if v == nil {
		return ""
	}
	if v.kind != jString {
		d.wrongType(v, path, "text")
		return ""
	}
	return v.str
}

func (d *decoder) integer(v *jval, path string) int {
	if v == nil {
		return 0
	}
	if v.kind != jNumber {
		d.wrongType(v, path, "a whole number")
		return 0
	}
	n, err := v.num.Int64()
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		d.addAt(v, -1, path, CodeWrongType, "expected a whole number here, found %s", v.num)
		return 0
	}
	return int(n)
}

func (d *decoder) boolean(v *jval, path string) *bool {
	if v == nil {
		return nil
	}
	if v.kind != jBool {
		d.wrongType(v, path, "true or false")
		return nil
	}
	b := v.b
	return &b
}

func (d *decoder) duration(v *jval, path string) Duration {
	if v == nil {
		return 0
	}
	if v.kind != jString {
		d.wrongType(v, path, `a duration such as "5s"`)
		return 0
	}
	t, err := time.ParseDuration(v.str)
	if err != nil {
		d.addAt(v, -1, path, CodeBadTimeout, "%q is not a duration; write it like \"5s\" or \"1500ms\"", v.str)
		return 0
	}
	if t <= 0 {
		d.addAt(v, -1, path, CodeBadTimeout, "%q must be longer than zero", v.str)
		return 0
	}
	return Duration(t)
}

func (d *decoder) strList(v *jval, path string) []string {
	if v == nil {
		return nil
	}
	if v.kind != jArray {
		d.wrongType(v, path, "a list of text")
		return nil
	}
	out := make([]string, 0, len(v.arr))
	for i, e := range v.arr {
		out = append(out, d.str(e, index(path, i)))
	}
	return out
}

func (d *decoder) list(v *jval, path, what string) []*jval {
	if v == nil {
		return nil
	}
	if v.kind != jArray {
		d.wrongType(v, path, "a list ("+what+")")
		return nil
	}
	return v.arr
}

func (d *decoder) lang(v *jval, path string) Lang {
	s := d.str(v, path)
	if s != "" && langIndex(Lang(s)) < 0 {
		d.addAt(v, -1, path, CodeUnknownLanguage, "%q is not a language Kontakt has a voice for (pl, en, uk)", s)
	}
	return Lang(s)
}

var promptItemFields = []string{"text", "audio"}

func (d *decoder) promptItem(v *jval, path string) PromptItem {
	if v == nil {
		return PromptItem{}
	}
	if v.kind == jString { // shorthand: "pl": "Dzień dobry"
		return PromptItem{Text: v.str}
	}
	f := d.fields(v, path, "a prompt", promptItemFields)
	if f == nil {
		return PromptItem{}
	}
	return PromptItem{Text: d.str(f["text"], join(path, "text")), Audio: d.str(f["audio"], join(path, "audio"))}
}

func (d *decoder) prompt(v *jval, path string) Prompt {
	if v == nil {
		return nil
	}
	if v.kind != jObject {
		d.wrongType(v, path, `an object of prompts by language, such as {"pl": "…", "en": "…"}`)
		return nil
	}
	out := make(Prompt, len(v.obj))
	for _, m := range v.obj {
		fp := join(path, m.key)
		l := Lang(m.key)
		if langIndex(l) < 0 {
			d.addAt(nil, m.off, fp, CodeUnknownLanguage, "%q is not a language Kontakt has a voice for (pl, en, uk)", m.key)
			continue
		}
		if _, dup := out[l]; dup {
			d.addAt(nil, m.off, fp, CodeDuplicateKey, "the %s prompt appears twice; keep one", LangName(l))
			continue
		}
		if m.val.kind == jNull {
			continue
		}
		out[l] = d.promptItem(m.val, fp)
	}
	return out
}

var menuFields = []string{"format", "id", "version", "name", "description", "languages",
	"default_language", "timezone", "start", "nodes"}

func (d *decoder) menu(v *jval) *Menu {
	m := &Menu{Nodes: map[string]*Node{}}
	f := d.fields(v, "$", "the menu", menuFields)
	if f == nil {
		return m
	}
	m.Format = d.integer(f["format"], "format")
	m.ID = d.str(f["id"], "id")
	m.Version = d.integer(f["version"], "version")
	m.Name = d.str(f["name"], "name")
	m.Description = d.str(f["description"], "description")
	if lv := d.list(f["languages"], "languages", "languages such as [\"pl\", \"en\", \"uk\"]"); lv != nil {
		for i, e := range lv {
			m.Languages = append(m.Languages, d.lang(e, index("languages", i)))
		}
	}
	m.DefaultLanguage = d.lang(f["default_language"], "default_language")
	m.Timezone = d.str(f["timezone"], "timezone")
	m.Start = d.str(f["start"], "start")
	if nv := f["nodes"]; nv != nil {
		if nv.kind != jObject {
			d.wrongType(nv, "nodes", "an object of nodes by id")
		} else {
			for _, mem := range nv.obj {
				p := nodePath(mem.key)
				if _, dup := m.Nodes[mem.key]; dup {
					d.addAt(nil, mem.off, p, CodeDuplicateKey, "two nodes are called %q; node ids must be unique", mem.key)
					continue
				}
				n := d.node(mem.val, p)
				n.ID = mem.key
				m.Nodes[mem.key] = n
				m.order = append(m.order, mem.key)
			}
		}
	}
	return m
}

// kindFields lists, per kind, the fields a node of that kind may have besides kind and
// description.
var kindFields = map[Kind][]string{
	KindPlay:     {"prompt", "next", "barge_in"},
	KindMenu:     {"prompt", "options", "timeout", "retries", "no_input", "invalid", "fallback", "barge_in"},
	KindLanguage: {"prompt", "choices", "default_language", "timeout", "retries", "invalid", "next", "barge_in"},
	KindCollect: {"prompt", "min_digits", "max_digits", "terminator", "timeout", "inter_digit_timeout",
		"retries", "no_input", "invalid", "into", "next", "fallback", "barge_in"},
	KindQueue: {"prompt", "queue", "skills", "language", "priority"},
	KindTicketStatus: {"prompt", "min_digits", "max_digits", "terminator", "timeout", "inter_digit_timeout",
		"retries", "no_input", "invalid", "found", "unknown", "lookup_timeout", "escape_digit", "escape_next",
		"next", "fallback", "barge_in"},
	KindCallback: {"prompt", "number_from", "queue", "next"},
	KindHours:    {"schedule", "holidays", "open", "closed", "holiday"},
	KindGoto:     {"next"},
	KindHangUp:   {"prompt"},
}

var kindList = func() string {
	var s []string
	for k := KindPlay; k <= KindHangUp; k++ {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}()

func (d *decoder) node(v *jval, path string) *Node {
	n := &Node{}
	if v.kind != jObject {
		d.wrongType(v, path, "an object (a node)")
		return n
	}
	var kv *jval
	for _, m := range v.obj {
		if m.key == "kind" {
			kv = m.val
			break
		}
	}
	if kv == nil || kv.kind == jNull {
		d.addAt(v, -1, join(path, "kind"), CodeMissingField, "the node has no kind; give one of: %s", kindList)
		return n
	}
	ks := d.str(kv, join(path, "kind"))
	n.Kind = ParseKind(ks)
	if n.Kind == KindUnknown {
		if kv.kind == jString {
			msg := fmt.Sprintf("%q is not a node kind; use one of: %s", ks, kindList)
			if s := closest(ks, strings.Split(kindList, ", ")); s != "" {
				msg = fmt.Sprintf("%q is not a node kind (did you mean %q?)", ks, s)
			}
			d.addAt(kv, -1, join(path, "kind"), CodeUnknownKind, "%s", msg)
		}
		return n
	}
	allowed := append([]string{"kind", "description"}, kindFields[n.Kind]...)
	f := d.fields(v, path, "a "+n.Kind.String()+" node", allowed)
	fp := func(k string) string { return join(path, k) }
	n.Description = d.str(f["description"], fp("description"))
	n.Prompt = d.prompt(f["prompt"], fp("prompt"))
	n.Next = d.str(f["next"], fp("next"))
	n.BargeIn = d.boolean(f["barge_in"], fp("barge_in"))
	n.Timeout = d.duration(f["timeout"], fp("timeout"))
	if rv := f["retries"]; rv != nil {
		r := d.integer(rv, fp("retries"))
		n.Retries = &r
	}
	n.NoInput = d.prompt(f["no_input"], fp("no_input"))
	n.Invalid = d.prompt(f["invalid"], fp("invalid"))
	n.Fallback = d.str(f["fallback"], fp("fallback"))
	for i, ov := range d.list(f["options"], fp("options"), "menu options") {
		op := index(fp("options"), i)
		of := d.fields(ov, op, "a menu option", []string{"digit", "next", "repeat"})
		o := Option{Digit: d.str(of["digit"], join(op, "digit")), Next: d.str(of["next"], join(op, "next"))}
		if b := d.boolean(of["repeat"], join(op, "repeat")); b != nil {
			o.Repeat = *b
		}
		n.Options = append(n.Options, o)
	}
	for i, cv := range d.list(f["choices"], fp("choices"), "language choices") {
		cp := index(fp("choices"), i)
		cf := d.fields(cv, cp, "a language choice", []string{"digit", "language", "announce", "next"})
		n.Choices = append(n.Choices, Choice{
			Digit:    d.str(cf["digit"], join(cp, "digit")),
			Language: d.lang(cf["language"], join(cp, "language")),
			Announce: d.promptItem(cf["announce"], join(cp, "announce")),
			Next:     d.str(cf["next"], join(cp, "next")),
		})
	}
	n.DefaultLanguage = d.lang(f["default_language"], fp("default_language"))
	n.MinDigits = d.integer(f["min_digits"], fp("min_digits"))
	n.MaxDigits = d.integer(f["max_digits"], fp("max_digits"))
	n.Terminator = d.str(f["terminator"], fp("terminator"))
	n.InterDigitTimeout = d.duration(f["inter_digit_timeout"], fp("inter_digit_timeout"))
	n.Into = d.str(f["into"], fp("into"))
	n.Found = d.prompt(f["found"], fp("found"))
	n.Unknown = d.prompt(f["unknown"], fp("unknown"))
	n.LookupTimeout = d.duration(f["lookup_timeout"], fp("lookup_timeout"))
	n.EscapeDigit = d.str(f["escape_digit"], fp("escape_digit"))
	n.EscapeNext = d.str(f["escape_next"], fp("escape_next"))
	n.Queue = d.str(f["queue"], fp("queue"))
	n.Skills = d.strList(f["skills"], fp("skills"))
	n.Language = d.lang(f["language"], fp("language"))
	n.Priority = d.integer(f["priority"], fp("priority"))
	n.NumberFrom = d.str(f["number_from"], fp("number_from"))
	for i, wv := range d.list(f["schedule"], fp("schedule"), "opening windows") {
		wp := index(fp("schedule"), i)
		wf := d.fields(wv, wp, "an opening window", []string{"days", "from", "to"})
		n.Schedule = append(n.Schedule, Window{
			Days: d.strList(wf["days"], join(wp, "days")),
			From: d.str(wf["from"], join(wp, "from")),
			To:   d.str(wf["to"], join(wp, "to")),
		})
	}
	n.Holidays = d.strList(f["holidays"], fp("holidays"))
	n.Open = d.str(f["open"], fp("open"))
	n.Closed = d.str(f["closed"], fp("closed"))
	n.Holiday = d.str(f["holiday"], fp("holiday"))
	return n
}
