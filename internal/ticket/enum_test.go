package ticket

import (
	"encoding/json"
	"regexp"
	"testing"
)

// enumCase checks one enum type: every value's String parses back to it, marshals to JSON as that
// snake_case string and unmarshals back; unknown strings are refused; out-of-range values print
// something recognisable.
func enumCase[T interface {
	~uint8
	String() string
}](t *testing.T, n names[T], parse func(string) (T, error), want []string) {
	t.Helper()
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	if len(n) != len(want) {
		t.Fatalf("%d names, want %d", len(n), len(want))
	}
	for i, w := range want {
		v := T(i)
		if v.String() != w {
			t.Errorf("%d.String() = %q, want %q", i, v.String(), w)
		}
		if !snake.MatchString(v.String()) {
			t.Errorf("%q is not snake_case", v.String())
		}
		got, err := parse(v.String())
		if err != nil || got != v {
			t.Errorf("Parse(%q) = %v, %v", v.String(), got, err)
		}
		b, err := json.Marshal(v)
		if err != nil || string(b) != `"`+w+`"` {
			t.Errorf("json.Marshal(%v) = %s, %v", v, b, err)
		}
		var back T
		if err := json.Unmarshal(b, &back); err != nil || back != v {
			t.Errorf("json.Unmarshal(%s) = %v, %v", b, back, err)
		}
	}
	if _, err := parse("Nonsense"); err == nil {
		t.Error("Parse accepted an unknown name")
	}
	if _, err := parse(""); err == nil {
		t.Error("Parse accepted an empty name")
	}
	var back T
	if err := json.Unmarshal([]byte(`"nonsense"`), &back); err == nil {
		t.Error("json.Unmarshal accepted an unknown name")
	}
	if s := T(200).String(); s != want[0]+"(200)" {
		t.Errorf("out-of-range String = %q", s)
	}
}

func TestEnums(t *testing.T) {
	t.Run("Kind", func(t *testing.T) {
		enumCase(t, kindNames, ParseKind, []string{"unknown", "information", "intervention", "out_of_scope"})
	})
	t.Run("Status", func(t *testing.T) {
		enumCase(t, statusNames, ParseStatus, []string{"unknown", "new", "in_progress", "forwarded", "resolved_by_unit", "closed", "merged", "abandoned_call"})
	})
	t.Run("Role", func(t *testing.T) {
		enumCase(t, roleNames, ParseRole, []string{"unknown", "consultant", "broker", "supervisor", "administrator", "unit_worker", "system"})
	})
	t.Run("Channel", func(t *testing.T) {
		enumCase(t, channelNames, ParseChannel, []string{"unknown", "phone", "web_form", "chat", "email", "fax", "in_person", "mobile_app"})
	})
	t.Run("ActionType", func(t *testing.T) {
		enumCase(t, actionNames, ParseActionType, []string{"unknown", "register", "classify", "take", "forward", "return", "report", "close", "reopen", "reassign", "merge", "abandon", "add_contact", "add_note", "escalate"})
	})
	t.Run("EscalationLevel", func(t *testing.T) {
		enumCase(t, escalationNames, ParseEscalationLevel, []string{"none", "owner", "supervisor"})
	})
}

func TestZeroValuesAreUnknown(t *testing.T) {
	var (
		k Kind
		s Status
		r Role
		c Channel
		a ActionType
		l EscalationLevel
	)
	if k != KindUnknown || s != StatusUnknown || r != RoleUnknown || c != ChannelUnknown || a != ActionUnknown || l != EscalationNone {
		t.Error("a zero value is not the Unknown/None value")
	}
}

func TestStatusOpen(t *testing.T) {
	open := map[Status]bool{StatusNew: true, StatusInProgress: true, StatusForwarded: true, StatusResolvedByUnit: true}
	for s := StatusUnknown; s <= StatusAbandonedCall; s++ {
		if s.Open() != open[s] {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
	}
}
