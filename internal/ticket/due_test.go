package ticket

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"kontakt/internal/workcal"
)

func waw(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, workcal.Warsaw())
	if err != nil {
		panic(err)
	}
	return t
}

func TestDue(t *testing.T) {
	for _, tc := range []struct {
		registered string
		rule       DueRule
		want       string // "" for none
	}{
		{"2026-03-02 10:00", DueRule{Days: 3}, "2026-03-05 16:00"},
		{"2026-03-06 18:30", DueRule{Days: 1}, "2026-03-09 16:00"},  // Friday evening
		{"2026-04-03 09:00", DueRule{Days: 1}, "2026-04-07 16:00"},  // Good Friday → over Easter
		{"2026-12-23 12:00", DueRule{Days: 2}, "2026-12-29 16:00"},  // over 24–26 December
		{"2026-03-02 10:00", DueRule{Hours: 8}, "2026-03-03 10:00"}, // one working day of hours
		{"2026-03-02 21:00", DueRule{Hours: 4}, "2026-03-03 12:00"}, // registered at night
		{"2026-10-23 14:00", DueRule{Hours: 4}, "2026-10-26 10:00"}, // over the DST end weekend
		{"2026-06-03 15:00", DueRule{Hours: 2}, "2026-06-05 09:00"}, // over Corpus Christi
		{"2026-03-02 10:00", DueRule{}, ""},
	} {
		got := Due(waw(tc.registered), tc.rule)
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("Due(%s, %v) = %s, want none", tc.registered, tc.rule, got)
			}
			continue
		}
		if want := waw(tc.want); !got.Equal(want) {
			t.Errorf("Due(%s, %v) = %s, want %s", tc.registered, tc.rule, got.In(workcal.Warsaw()), tc.want)
		}
	}
}

func TestDueRuleText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want DueRule
		ok   bool
	}{
		{"3d", DueRule{Days: 3}, true},
		{"8h", DueRule{Hours: 8}, true},
		{"", DueRule{}, true},
		{"0d", DueRule{}, false},
		{"-1d", DueRule{}, false},
		{"+1d", DueRule{}, false},
		{"3", DueRule{}, false},
		{"d", DueRule{}, false},
		{"3w", DueRule{}, false},
		{"261d", DueRule{}, false},
		{"99999999999999999999d", DueRule{}, false},
	} {
		got, err := ParseDueRule(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDueRule(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
	var v struct{ Due DueRule }
	if err := json.Unmarshal([]byte(`{"Due":"5d"}`), &v); err != nil || v.Due != (DueRule{Days: 5}) {
		t.Errorf("Unmarshal = %v, %v", v, err)
	}
	if b, _ := json.Marshal(v); string(b) != `{"Due":"5d"}` {
		t.Errorf("Marshal = %s", b)
	}
}

func TestOverdue(t *testing.T) {
	due := waw("2026-03-05 16:00")
	open := Ticket{Status: StatusForwarded, Due: due}
	for _, tc := range []struct {
		t    Ticket
		now  time.Time
		want bool
	}{
		{open, due.Add(-time.Second), false},
		{open, due, true},
		{open, due.Add(time.Hour), true},
		{Ticket{Status: StatusResolvedByUnit, Due: due}, due.Add(time.Hour), true}, // still waits for the consultant
		{Ticket{Status: StatusClosed, Due: due}, due.Add(time.Hour), false},
		{Ticket{Status: StatusMerged, Due: due}, due.Add(time.Hour), false},
		{Ticket{Status: StatusNew}, due.Add(time.Hour), false}, // no due time
	} {
		if got := Overdue(tc.t, tc.now); got != tc.want {
			t.Errorf("Overdue(%s due %s, %s) = %v", tc.t.Status, tc.t.Due, tc.now, got)
		}
	}
}

func TestCheckEscalation(t *testing.T) {
	p := DefaultEscalation()
	due := waw("2026-03-05 16:00") // Thursday
	owned := Ticket{ID: 1, Status: StatusForwarded, Due: due, Owner: 11}
	// Supervisors after 8 working hours past the due time: Friday 16:00.
	supervisorAt := waw("2026-03-06 16:00")
	for _, tc := range []struct {
		name string
		t    Ticket
		now  time.Time
		want Escalation
	}{
		{"not due yet", owned, due.Add(-time.Minute), Escalation{Next: due}},
		{"due: owner", owned, due, Escalation{Level: EscalationOwner, Owner: 11, Next: supervisorAt}},
		{"Friday noon: still owner", owned, waw("2026-03-06 12:00"), Escalation{Level: EscalationOwner, Owner: 11, Next: supervisorAt}},
		{"grace over: supervisor", owned, supervisorAt, Escalation{Level: EscalationSupervisor}},
		{"nobody owns it: supervisor at once", Ticket{Status: StatusNew, Due: due}, due, Escalation{Level: EscalationSupervisor}},
		{"closed: nothing", Ticket{Status: StatusClosed, Due: due, Owner: 11}, supervisorAt, Escalation{}},
		{"no due time: nothing", Ticket{Status: StatusNew, Owner: 11}, supervisorAt, Escalation{}},
	} {
		if got := CheckEscalation(tc.t, tc.now, p); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// Over a weekend: due Friday 15:00, grace ends Monday 15:00.
	fri := Ticket{Status: StatusInProgress, Due: waw("2026-03-06 15:00"), Owner: 11}
	if got := CheckEscalation(fri, waw("2026-03-08 12:00"), p); got.Level != EscalationOwner || !got.Next.Equal(waw("2026-03-09 15:00")) {
		t.Errorf("over the weekend: %+v", got)
	}
}

// The overdue job: check, apply Escalate when the level rises, notify once per level.
func TestEscalationJob(t *testing.T) {
	p := DefaultEscalation()
	tk := Ticket{ID: 1, Number: Number{2026, 5}, Kind: KindIntervention, Status: StatusForwarded, Unit: 3,
		Registered: waw("2026-03-02 10:00"), Due: waw("2026-03-05 16:00"), Owner: 11, Contacts: 1}
	var notified []string
	step := func(at string) {
		now := waw(at)
		e := CheckEscalation(tk, now, p)
		if e.Level <= tk.Escalated {
			return
		}
		next, c, err := Apply(tk, Escalate{Level: e.Level}, system, now)
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		tk = next
		notified = append(notified, at+" "+c.Fields[0].After)
	}
	for _, at := range []string{"2026-03-05 12:00", "2026-03-05 16:00", "2026-03-05 17:00", "2026-03-06 15:59", "2026-03-06 16:00", "2026-03-09 09:00"} {
		step(at)
	}
	if got := len(notified); got != 2 || notified[0] != "2026-03-05 16:00 owner" || notified[1] != "2026-03-06 16:00 supervisor" {
		t.Errorf("notified %v", notified)
	}
	// Escalating again, or a ticket not overdue, is refused.
	for _, tc := range []struct {
		t   Ticket
		a   Escalate
		now time.Time
	}{
		{tk, Escalate{Level: EscalationSupervisor}, waw("2026-03-09 10:00")},
		{Ticket{Status: StatusNew, Due: waw("2026-03-05 16:00"), Owner: 11}, Escalate{Level: EscalationOwner}, waw("2026-03-05 15:00")},
		{Ticket{Status: StatusNew, Due: waw("2026-03-05 16:00")}, Escalate{Level: EscalationOwner}, waw("2026-03-05 17:00")},
		{Ticket{Status: StatusNew, Due: waw("2026-03-05 16:00")}, Escalate{}, waw("2026-03-05 17:00")},
	} {
		_, _, err := Apply(tc.t, tc.a, system, tc.now)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidField || e.Field != "level" {
			t.Errorf("Escalate %v on %+v: %v", tc.a.Level, tc.t, err)
		}
	}
	// Reassigning resets the owner level so the new owner hears of it; reopening resets all.
	tk.Escalated = EscalationOwner
	r, _, err := Apply(tk, Reassign{To: 12}, supervisor, waw("2026-03-06 09:00"))
	if err != nil || r.Escalated != EscalationNone {
		t.Errorf("reassign: %v, %v", r.Escalated, err)
	}
}

func BenchmarkCheckEscalation(b *testing.B) {
	tk := Ticket{Status: StatusForwarded, Due: waw("2026-04-03 16:00"), Owner: 11} // Good Friday: grace runs over Easter
	now := waw("2026-04-07 09:00")
	p := DefaultEscalation()
	for b.Loop() {
		CheckEscalation(tk, now, p)
	}
}

func BenchmarkDue(b *testing.B) {
	reg := waw("2026-12-22 15:00")
	for b.Loop() {
		Due(reg, DueRule{Days: 5})
	}
}
