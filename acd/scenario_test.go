package acd

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Scenario tests: testdata/*.txt hold stanzas of commands, a "----" line, and the output the
// commands must produce, ended by a blank line. `go test ./acd -run Scenario -update` rewrites
// the outputs; review them in the diff. The language is described in README.md.

var update = flag.Bool("update", false, "rewrite the expected output of the scenario tests")

// scenarioDay is a Monday; "at 10:00:05" means that time on it, UTC.
var scenarioDay = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

type stanza struct {
	pre  []string // comments and blank lines before the commands
	cmds []string
	out  []string
}

func parseScenario(t *testing.T, text string) (stanzas []stanza, trailer []string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var cur stanza
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "----":
			if len(cur.cmds) == 0 {
				t.Fatalf("line %d: ---- without commands", i+1)
			}
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				cur.out = append(cur.out, lines[i])
			}
			stanzas = append(stanzas, cur)
			cur = stanza{}
		case len(cur.cmds) == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")):
			cur.pre = append(cur.pre, l)
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			cur.cmds = append(cur.cmds, l) // comments between commands stay with them
		default:
			cur.cmds = append(cur.cmds, l)
		}
	}
	if len(cur.cmds) > 0 {
		t.Fatalf("commands without ---- at the end: %q", cur.cmds)
	}
	return stanzas, cur.pre
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			stanzas, trailer := parseScenario(t, string(b))
			r := &runner{t: t, e: New(Options{}), now: scenarioDay}
			var out strings.Builder
			for i := range stanzas {
				s := &stanzas[i]
				var got []string
				for _, cmd := range s.cmds {
					trimmed := strings.TrimSpace(cmd)
					if trimmed == "" || strings.HasPrefix(trimmed, "#") {
						continue
					}
					got = append(got, r.run(trimmed)...)
				}
				if len(got) == 0 {
					got = []string{"ok"}
				}
				if !*update && strings.Join(got, "\n") != strings.Join(s.out, "\n") {
					t.Errorf("%s: stanza %d (%s):\n--- want\n%s\n--- got\n%s", f, i+1, strings.TrimSpace(s.cmds[0]),
						strings.Join(s.out, "\n"), strings.Join(got, "\n"))
				}
				s.out = got
				for _, l := range s.pre {
					out.WriteString(l + "\n")
				}
				for _, l := range s.cmds {
					out.WriteString(l + "\n")
				}
				out.WriteString("----\n")
				for _, l := range s.out {
					out.WriteString(l + "\n")
				}
				if i < len(stanzas)-1 {
					if len(stanzas[i+1].pre) == 0 || strings.TrimSpace(stanzas[i+1].pre[0]) != "" {
						out.WriteString("\n")
					}
				}
			}
			for _, l := range trailer {
				out.WriteString(l + "\n")
			}
			if *update {
				if err := os.WriteFile(f, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

type runner struct {
	t   *testing.T
	e   *Engine
	now time.Time
}

// fields splits a command line into words, keeping "quoted strings" (quotes removed) whole.
func fields(s string) []string {
	var out []string
	var b strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case r == ' ' && !inQ:
			if have {
				out = append(out, b.String())
				b.Reset()
				have = false
			}
		default:
			b.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, b.String())
	}
	return out
}

func (r *runner) run(line string) []string {
	t := r.t
	w := fields(line)
	if w[0] == "at" {
		if len(w) < 3 {
			t.Fatalf("%q: at TIME COMMAND", line)
		}
		if strings.HasPrefix(w[1], "+") {
			d, err := time.ParseDuration(w[1][1:])
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			r.now = r.now.Add(d)
		} else {
			tm, err := time.Parse("15:04:05", w[1])
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			r.now = scenarioDay.Add(time.Duration(tm.Hour())*time.Hour + time.Duration(tm.Minute())*time.Minute + time.Duration(tm.Second())*time.Second)
		}
		w = w[2:]
	}
	kv := map[string]string{}
	var pos []string
	for _, f := range w[1:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	arg := func(i int) string {
		if i >= len(pos) {
			t.Fatalf("%q: missing argument %d", line, i+1)
		}
		return pos[i]
	}
	var ev Event
	switch w[0] {
	case "options":
		o := Options{PauseReasons: splitList(kv["reasons"])}
		o.PriorityStep = dur(t, kv["priority-step"])
		o.ShortAbandon = dur(t, kv["short-abandon"])
		o.RingTimeout = dur(t, kv["ring"])
		r.e = New(o)
		return nil
	case "queue":
		ev = ConfigureQueue{Queue: r.queueConfig(arg(0), kv)}
	case "agent":
		ev = ConfigureAgent{Agent: AgentConfig{ID: AgentID(arg(0)), Skills: skillList(t, kv["skills"]),
			Languages: splitList(kv["langs"]), Queues: ids[QueueID](kv["queues"])}}
	case "override":
		o, err := ParseOverride(arg(1))
		if err != nil {
			t.Fatal(err)
		}
		ev = SetOverride{Queue: QueueID(arg(0)), Override: o}
	case "call":
		p, _ := strconv.Atoi(kv["prio"])
		ca := CallArrived{Call: CallID(arg(0)), Queue: QueueID(kv["queue"]), Priority: p, Language: kv["lang"], Note: kv["note"], Callback: kv["callback"]}
		if s := kv["arrived"]; s != "" {
			tm, err := time.Parse("15:04:05", s)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			ca.Arrived = scenarioDay.Add(time.Duration(tm.Hour())*time.Hour + time.Duration(tm.Minute())*time.Minute + time.Duration(tm.Second())*time.Second)
		}
		ev = ca
	case "ready":
		ev = AgentReady{Agent: AgentID(arg(0))}
	case "pause":
		ev = AgentPause{Agent: AgentID(arg(0)), Reason: kv["reason"]}
	case "logout":
		ev = AgentLogout{Agent: AgentID(arg(0))}
	case "accept":
		ev = OfferAccepted{Call: CallID(arg(0)), Agent: AgentID(arg(1))}
	case "decline":
		ev = OfferDeclined{Call: CallID(arg(0)), Agent: AgentID(arg(1))}
	case "hangup":
		ev = CallEnded{Call: CallID(arg(0))}
	case "transfer":
		ev = Transfer{Call: CallID(arg(0)), Queue: QueueID(kv["to"]), Note: kv["note"]}
	case "callback":
		ev = RequestCallback{Call: CallID(arg(0)), Number: kv["number"]}
	case "cb-answered":
		ev = CallbackAnswered{Call: CallID(arg(0))}
	case "cb-noanswer":
		ev = CallbackNoAnswer{Call: CallID(arg(0))}
	case "cb-cancel":
		ev = CancelCallback{Call: CallID(arg(0))}
	case "tick":
		ev = Tick{}
	case "deadline":
		r.step(Tick{})
		if d, ok := r.e.NextDeadline(); ok {
			return []string{"next deadline " + d.Format("15:04:05")}
		}
		return []string{"no deadline"}
	case "explain":
		out := r.step(Tick{})
		x, ok := r.e.Explain(CallID(arg(0)))
		if !ok {
			return append(out, "unknown call "+arg(0))
		}
		return append(out, strings.Split(strings.TrimRight(x.String(), "\n"), "\n")...)
	case "estimate":
		out := r.step(Tick{})
		est, ok := r.e.EstimateWait(CallID(arg(0)))
		if !ok {
			return append(out, "no estimate for "+arg(0))
		}
		return append(out, fmt.Sprintf("position %d, %d agents, expected wait %s", est.Position, est.Agents, est.ExpectedWait))
	case "stats":
		out := r.step(Tick{})
		return append(out, r.stats(pos)...)
	default:
		t.Fatalf("unknown command %q", line)
	}
	return r.step(ev)
}

func (r *runner) step(ev Event) []string {
	acts := r.e.Step(r.now, ev)
	if err := r.e.check(); err != nil {
		r.t.Fatalf("after %T at %s: %v", ev, r.now.Format("15:04:05"), err)
	}
	out := make([]string, 0, len(acts))
	for _, a := range acts {
		out = append(out, formatAction(a))
	}
	return out
}

func formatAction(a Action) string {
	at := a.At.Format("15:04:05")
	switch a.Kind {
	case ActOffer:
		return fmt.Sprintf("%s offer %s -> %s [%s]", at, a.Call, a.Agent, a.Queue)
	case ActCancelOffer:
		return fmt.Sprintf("%s cancel-offer %s -> %s (%s)", at, a.Call, a.Agent, a.Reason)
	case ActAgentState:
		s := fmt.Sprintf("%s agent %s %s", at, a.Agent, a.State)
		if a.Reason != "" {
			s += " (" + a.Reason + ")"
		}
		return s
	case ActOverflow:
		return fmt.Sprintf("%s overflow %s %s -> %s (%s)", at, a.Call, a.Queue, a.To, a.Reason)
	case ActReject:
		return fmt.Sprintf("%s reject %s [%s] (%s)", at, a.Call, a.Queue, a.Reason)
	case ActCallbackDue:
		return fmt.Sprintf("%s callback-due %s -> %s [%s] number=%s attempt=%d", at, a.Call, a.Agent, a.Queue, a.Number, a.Attempt)
	case ActCallbackFailed:
		return fmt.Sprintf("%s callback-failed %s [%s] after %d attempts", at, a.Call, a.Queue, a.Attempt)
	case ActInvalid:
		return fmt.Sprintf("%s invalid call=%s agent=%s queue=%s: %s", at, a.Call, a.Agent, a.Queue, a.Reason)
	}
	return fmt.Sprintf("%s %s %+v", at, a.Kind, a)
}

func (r *runner) stats(which []string) []string {
	s := r.e.Snapshot(r.now)
	var out []string
	want := func(id string) bool {
		if len(which) == 0 {
			return true
		}
		for _, w := range which {
			if w == id {
				return true
			}
		}
		return false
	}
	for _, q := range s.Queues {
		if !want(string(q.Queue)) {
			continue
		}
		out = append(out, fmt.Sprintf("queue %s: open=%v waiting=%d callbacks=%d longest=%.0fs offered=%d answered=%d in_sl=%d abandoned=%d short=%d overflowed=%d rejected=%d in=%d out=%d",
			q.Queue, q.Open, q.Waiting, q.Callbacks, q.LongestWaitSeconds, q.Offered, q.Answered, q.AnsweredInSL, q.Abandoned, q.ShortAbandoned, q.Overflowed, q.Rejected, q.TransferredIn, q.TransferredOut))
		out = append(out, fmt.Sprintf("  sl=%.3f asa=%.1fs aht=%.1fs handled=%d staffed=%d available=%d cb_requested=%d cb_answered=%d cb_failed=%d",
			q.ServiceLevel, q.ASASeconds, q.AHTSeconds, q.Handled, q.AgentsStaffed, q.AgentsAvailable, q.CallbacksRequested, q.CallbacksAnswered, q.CallbacksFailed))
	}
	for _, a := range s.Agents {
		if !want(string(a.Agent)) {
			continue
		}
		line := fmt.Sprintf("agent %s: %s", a.Agent, a.State)
		if a.Reason != "" {
			line += " (" + a.Reason + ")"
		}
		line += fmt.Sprintf(" for %.0fs, handled=%d no_answer=%d declined=%d;", a.InStateSeconds, a.Handled, a.NoAnswer, a.Declined)
		var keys []string
		for k, v := range a.Seconds {
			if v > 0 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			line += fmt.Sprintf(" %s=%.0fs", k, a.Seconds[k])
		}
		keys = keys[:0]
		for k := range a.PausedSeconds {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			line += fmt.Sprintf(" [%s]=%.0fs", k, a.PausedSeconds[k])
		}
		out = append(out, line)
	}
	return out
}

func (r *runner) queueConfig(id string, kv map[string]string) QueueConfig {
	t := r.t
	q := QueueConfig{ID: QueueID(id), Skills: skillList(t, kv["skills"]), Language: kv["lang"], Overflow: QueueID(kv["overflow"])}
	q.Priority, _ = strconv.Atoi(kv["prio"])
	q.MaxLength, _ = strconv.Atoi(kv["maxlen"])
	q.CallbackAttempts, _ = strconv.Atoi(kv["cb-attempts"])
	q.SLThreshold = dur(t, kv["sl"])
	q.MaxWait = dur(t, kv["maxwait"])
	q.WrapUp = dur(t, kv["wrapup"])
	q.RingTimeout = dur(t, kv["ring"])
	q.CallbackRetry = dur(t, kv["cb-retry"])
	q.CallbackRingTimeout = dur(t, kv["cb-ring"])
	// widen=60s:level=1;120s:add=broker:1+super:1
	if w := kv["widen"]; w != "" {
		for _, rule := range strings.Split(w, ";") {
			after, rest, _ := strings.Cut(rule, ":")
			wr := Widening{After: dur(t, after)}
			k, v, _ := strings.Cut(rest, "=")
			switch k {
			case "level":
				wr.Level, _ = strconv.Atoi(v)
			case "add":
				wr.Add = skillList(t, strings.ReplaceAll(v, "+", ","))
			default:
				t.Fatalf("widen rule %q", rule)
			}
			q.Widen = append(q.Widen, wr)
		}
	}
	// hours=mon-fri@08:00-16:00,sat@09:00-13:00
	if h := kv["hours"]; h != "" {
		days := map[string]time.Weekday{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
		for _, part := range strings.Split(h, ",") {
			ds, span, _ := strings.Cut(part, "@")
			d0, d1, isRange := strings.Cut(ds, "-")
			if !isRange {
				d1 = d0
			}
			from, to, _ := strings.Cut(span, "-")
			for d := days[d0]; d <= days[d1]; d++ {
				q.Hours = append(q.Hours, OpenInterval{Day: d, From: clock(t, from), To: clock(t, to)})
			}
		}
	}
	return q
}

func clock(t *testing.T, s string) time.Duration {
	hh, mm, _ := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil {
		t.Fatalf("clock %q", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
}

func dur(t *testing.T, s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func ids[T ~string](s string) []T {
	var out []T
	for _, x := range splitList(s) {
		out = append(out, T(x))
	}
	return out
}

func skillList(t *testing.T, s string) []SkillLevel {
	var out []SkillLevel
	for _, x := range splitList(s) {
		name, lv, ok := strings.Cut(x, ":")
		l, err := strconv.Atoi(lv)
		if !ok || err != nil {
			t.Fatalf("skill %q: want name:level", x)
		}
		out = append(out, SkillLevel{Skill: name, Level: l})
	}
	return out
}
