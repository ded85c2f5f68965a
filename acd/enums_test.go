package acd

import (
	"encoding/json"
	"testing"
)

// Every enum value survives String/Parse and JSON; the zero value is Unknown; unknown names fail.
func TestEnumRoundTrip(t *testing.T) {
	type enum interface {
		String() string
		MarshalText() ([]byte, error)
	}
	check := func(t *testing.T, n int, get func(i int) enum, parse func(string) (int, error), unmarshal func([]byte) (int, error)) {
		if got := get(0).String(); got != "unknown" {
			t.Errorf("zero value is %q, want unknown", got)
		}
		for i := range n {
			v := get(i)
			p, err := parse(v.String())
			if err != nil || p != i {
				t.Errorf("%d: %q parses to %d, %v", i, v.String(), p, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			u, err := unmarshal(b)
			if err != nil || u != i {
				t.Errorf("%d: JSON %s round-trips to %d, %v", i, b, u, err)
			}
		}
		if _, err := parse("no-such-value"); err == nil {
			t.Error("unknown name parsed")
		}
		if s := get(n).String(); s != "invalid("+itoa(n)+")" {
			t.Errorf("out of range prints %q", s)
		}
	}
	t.Run("AgentState", func(t *testing.T) {
		check(t, int(numAgentStates), func(i int) enum { return AgentState(i) },
			func(s string) (int, error) { v, err := ParseAgentState(s); return int(v), err },
			func(b []byte) (int, error) { var v AgentState; err := json.Unmarshal(b, &v); return int(v), err })
	})
	t.Run("ActionKind", func(t *testing.T) {
		check(t, int(numActionKinds), func(i int) enum { return ActionKind(i) },
			func(s string) (int, error) { v, err := ParseActionKind(s); return int(v), err },
			func(b []byte) (int, error) { var v ActionKind; err := json.Unmarshal(b, &v); return int(v), err })
	})
	t.Run("CallState", func(t *testing.T) {
		check(t, int(numCallStates), func(i int) enum { return CallState(i) },
			func(s string) (int, error) { v, err := ParseCallState(s); return int(v), err },
			func(b []byte) (int, error) { var v CallState; err := json.Unmarshal(b, &v); return int(v), err })
	})
	t.Run("Outcome", func(t *testing.T) {
		check(t, int(numOutcomes), func(i int) enum { return Outcome(i) },
			func(s string) (int, error) { v, err := ParseOutcome(s); return int(v), err },
			func(b []byte) (int, error) { var v Outcome; err := json.Unmarshal(b, &v); return int(v), err })
	})
	t.Run("Override", func(t *testing.T) {
		check(t, int(OverrideClosed)+1, func(i int) enum { return Override(i) },
			func(s string) (int, error) { v, err := ParseOverride(s); return int(v), err },
			func(b []byte) (int, error) { var v Override; err := json.Unmarshal(b, &v); return int(v), err })
	})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// Action, Explanation and Snapshot marshal to snake_case JSON with enum names.
func TestJSONShapes(t *testing.T) {
	e := New(Options{})
	now := scenarioDay.Add(10 * 3600e9)
	e.Step(now, ConfigureQueue{Queue: QueueConfig{ID: "waste", Skills: []SkillLevel{{"waste", 1}}}})
	e.Step(now, ConfigureAgent{Agent: AgentConfig{ID: "a1", Skills: []SkillLevel{{"waste", 1}}, Queues: []QueueID{"waste"}}})
	e.Step(now, AgentReady{Agent: "a1"})
	acts := e.Step(now, CallArrived{Call: "c1", Queue: "waste"})
	b, _ := json.Marshal(acts[0])
	if want := `{"kind":"offer","at":"2026-03-02T10:00:00Z","call":"c1","agent":"a1","queue":"waste"}`; string(b) != want {
		t.Errorf("action JSON\n got %s\nwant %s", b, want)
	}
	x, _ := e.Explain("c1")
	b, _ = json.Marshal(x)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["state"] != "offered" || m["decision"].(map[string]any)["rule"] != "longest_idle" {
		t.Errorf("explanation JSON: %s", b)
	}
	b, _ = json.Marshal(e.Snapshot(now))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	q := m["queues"].([]any)[0].(map[string]any)
	if q["offered"] != 1.0 || q["service_level"] == nil || q["asa_seconds"] == nil {
		t.Errorf("snapshot JSON: %s", b)
	}
	a := m["agents"].([]any)[0].(map[string]any)
	if a["state"] != "reserved" {
		t.Errorf("snapshot agent JSON: %s", b)
	}
}
