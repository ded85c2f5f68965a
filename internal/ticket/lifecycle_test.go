package ticket

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	system     = Actor{Role: RoleSystem}
	anna       = Actor{User: 11, Role: RoleConsultant}
	bartek     = Actor{User: 12, Role: RoleConsultant}
	broker     = Actor{User: 16, Role: RoleBroker}
	supervisor = Actor{User: 13, Role: RoleSupervisor}
	admin      = Actor{User: 14, Role: RoleAdministrator}
	roads      = Actor{User: 15, Role: RoleUnitWorker, Unit: 3} // Zarząd Dróg i Transportu
	waste      = Actor{User: 17, Role: RoleUnitWorker, Unit: 6} // Zarząd Gospodarowania Odpadami
)

// story applies steps in order, each expecting success or an error code, and keeps the history.
type story struct {
	t       *testing.T
	ticket  Ticket
	history []Change
	clock   time.Time
}

func newStory(t *testing.T) *story { return &story{t: t, clock: now} }

func (s *story) do(actor Actor, a Action) *story {
	s.t.Helper()
	s.clock = s.clock.Add(time.Minute)
	next, c, err := Apply(s.ticket, a, actor, s.clock)
	if err != nil {
		s.t.Fatalf("%s by %s on %s: %v", a.Type(), actor.Role, s.ticket.Status, err)
	}
	s.ticket = next
	s.history = append(s.history, c)
	return s
}

func (s *story) refused(actor Actor, a Action, code Code, field string) *story {
	s.t.Helper()
	next, _, err := Apply(s.ticket, a, actor, s.clock)
	var e *Error
	if !errors.As(err, &e) {
		s.t.Fatalf("%s by %s on %s: got %v, want %s", a.Type(), actor.Role, s.ticket.Status, err, code)
	}
	if e.Code != code || e.Field != field {
		s.t.Fatalf("%s by %s: got %s/%s (%s), want %s/%s", a.Type(), actor.Role, e.Code, e.Field, e.Message, code, field)
	}
	if next != s.ticket {
		s.t.Fatalf("a refused %s changed the ticket", a.Type())
	}
	return s
}

func (s *story) is(st Status) *story {
	s.t.Helper()
	if s.ticket.Status != st {
		s.t.Fatalf("status %s, want %s", s.ticket.Status, st)
	}
	return s
}

func phoneDraft(t *testing.T) *story {
	return newStory(t).do(system, Register{ID: 1, Number: Number{2026, 123}, Channel: ChannelPhone}).is(StatusNew)
}

func TestInformationAnsweredFromArticle(t *testing.T) {
	s := phoneDraft(t).
		do(anna, Take{}).is(StatusInProgress).
		do(anna, Classify{Kind: KindInformation, Category: 4, Due: DueRule{Days: 1}}).
		do(anna, Close{Note: "udzielono informacji z artykułu"}).is(StatusClosed)
	if s.ticket.Owner != anna.User || s.ticket.ClosedAt.IsZero() || s.ticket.Kind != KindInformation {
		t.Errorf("ticket %+v", s.ticket)
	}
	if len(s.history) != 4 || s.history[3].Note != "udzielono informacji z artykułu" {
		t.Errorf("history %+v", s.history)
	}
}

func TestInformationForwardedWhenArticleNotEnough(t *testing.T) {
	s := phoneDraft(t).
		do(anna, Classify{Kind: KindInformation, Category: 4}).
		refused(anna, Forward{Unit: 3}, CodeInvalidField, "note"). // why is the article not enough?
		refused(anna, Forward{Unit: 3, External: "Urząd Wojewódzki", Note: "x"}, CodeInvalidField, "external").
		do(anna, Forward{Unit: 3, Note: "artykuł nie opisuje opłat za zajęcie pasa drogowego"}).is(StatusForwarded).
		refused(anna, Close{}, CodeWrongStatus, ""). // the unit has not reported back
		do(roads, ReportHandled{How: "odpowiedziano mieszkańcowi mailowo", When: now}).is(StatusResolvedByUnit).
		do(anna, Close{Note: "dołączono odpowiedź ZDiT"}).is(StatusClosed)
	if s.ticket.Unit != 3 || s.ticket.Report.By != roads.User {
		t.Errorf("ticket %+v", s.ticket)
	}
}

func TestWebFormInformationForwardedWithoutReason(t *testing.T) {
	newStory(t).
		refused(anna, Register{Channel: ChannelWebForm, Kind: KindInformation}, CodeInvalidField, "category").
		do(system, Register{ID: 2, Channel: ChannelWebForm, Kind: KindInformation, Category: 4}).
		do(anna, Forward{Unit: 3}).is(StatusForwarded)
}

func TestInterventionPath(t *testing.T) {
	when := now.Add(2 * time.Minute) // after the forward, before the report
	s := phoneDraft(t).
		do(anna, Classify{Kind: KindIntervention, Category: 5, Due: DueRule{Days: 3}}).
		refused(anna, Close{}, CodeReportRequired, "").
		refused(roads, ReportHandled{How: "x", When: now}, CodeOtherUnit, ""). // not forwarded yet
		do(anna, Forward{Unit: 3}).is(StatusForwarded).
		refused(waste, ReportHandled{How: "x", When: now}, CodeOtherUnit, "").
		refused(roads, ReportHandled{When: when}, CodeInvalidField, "how").
		refused(roads, ReportHandled{How: "  ", When: when}, CodeInvalidField, "how").
		refused(roads, ReportHandled{How: "załatano ubytek"}, CodeInvalidField, "when").
		refused(roads, ReportHandled{How: "załatano ubytek", When: now.Add(time.Hour)}, CodeInvalidField, "when").
		refused(roads, Close{}, CodeRoleNotAllowed, "").
		do(roads, AddNote{Text: "ekipa wysłana"}).
		do(roads, ReportHandled{How: "załatano ubytek", When: when}).is(StatusResolvedByUnit).
		refused(roads, ReportHandled{How: "again", When: when}, CodeWrongStatus, "").
		refused(bartek, Close{}, CodeNotOwner, "").
		do(anna, Close{}).is(StatusClosed).
		refused(roads, AddNote{Text: "po zamknięciu"}, CodeWrongStatus, "")
	if !s.ticket.Report.When.Equal(when) || s.ticket.Report.How != "załatano ubytek" {
		t.Errorf("report %+v", s.ticket.Report)
	}
	if !Visible(s.ticket, roads) || Visible(s.ticket, waste) {
		t.Error("a closed intervention is visible to its unit and to no other")
	}
}

func TestConsultantRecordsReportOnBehalfOfUnit(t *testing.T) {
	s := phoneDraft(t).
		do(anna, Classify{Kind: KindIntervention, Category: 5}).
		do(anna, Forward{Unit: 3}).
		refused(bartek, ReportHandled{How: "x", When: now}, CodeNotOwner, "").
		do(anna, ReportHandled{How: "ZDiT telefonicznie: ubytek załatany", When: now}).
		do(anna, Close{})
	if s.ticket.Report.By != anna.User {
		t.Errorf("report by %v", s.ticket.Report.By)
	}
}

func TestOutOfScope(t *testing.T) {
	s := phoneDraft(t).
		do(anna, Classify{Kind: KindOutOfScope}).
		refused(anna, Close{}, CodeKindRequired, "").
		refused(anna, Forward{}, CodeInvalidField, "unit").
		refused(anna, Forward{Unit: 3, External: "Policja"}, CodeInvalidField, "unit").
		do(anna, Forward{External: "Komenda Miejska Policji", Note: "zakłócanie ciszy nocnej"}).is(StatusClosed)
	if s.ticket.ForwardedTo != "Komenda Miejska Policji" || s.ticket.ClosedAt.IsZero() {
		t.Errorf("ticket %+v", s.ticket)
	}
}

func TestUnclassifiedCannotBeForwardedOrClosed(t *testing.T) {
	phoneDraft(t).
		refused(anna, Forward{Unit: 3}, CodeKindRequired, "").
		refused(anna, Close{}, CodeKindRequired, "").
		refused(anna, Classify{}, CodeInvalidField, "kind").
		refused(anna, Classify{Kind: KindIntervention}, CodeInvalidField, "category").
		refused(anna, Classify{Kind: KindIntervention, Category: 5, Due: DueRule{Days: 1, Hours: 2}}, CodeInvalidField, "due")
}

func TestMergeDraftIntoExistingTicket(t *testing.T) {
	target := Ticket{ID: 9, Number: Number{2026, 100}, Kind: KindIntervention, Status: StatusForwarded, Unit: 3, Contacts: 1, Channel: ChannelWebForm, Category: 5}
	s := phoneDraft(t).
		refused(anna, Merge{}, CodeInvalidField, "into").
		refused(anna, Merge{Into: Ticket{ID: 1, Status: StatusNew}}, CodeInvalidField, "into").
		refused(anna, Merge{Into: Ticket{ID: 5, Status: StatusMerged}}, CodeInvalidField, "into").
		refused(anna, Merge{Into: Ticket{ID: 5, Status: StatusAbandonedCall}}, CodeInvalidField, "into").
		do(anna, Merge{Into: target}).is(StatusMerged).
		refused(anna, Classify{Kind: KindInformation, Category: 4}, CodeWrongStatus, "")
	if s.ticket.MergedInto != 9 {
		t.Errorf("merged into %v", s.ticket.MergedInto)
	}
	// The caller counts the contact on the target.
	got, c, err := Apply(target, AddContact{Channel: ChannelPhone, Note: "połączenie 2026/000123"}, anna, now)
	if err != nil || got.Contacts != 2 || len(c.Fields) != 1 || c.Fields[0] != (FieldChange{"contacts", "1", "2"}) {
		t.Errorf("AddContact = %+v, %+v, %v", got, c, err)
	}
}

func TestAbandonedCall(t *testing.T) {
	phoneDraft(t).do(system, Abandon{}).is(StatusAbandonedCall).
		refused(anna, Take{}, CodeWrongStatus, "").
		refused(supervisor, Reopen{Reason: "x"}, CodeWrongStatus, "")
	phoneDraft(t).do(anna, Classify{Kind: KindInformation, Category: 4}).
		refused(system, Abandon{}, CodeNotADraft, "")
	newStory(t).do(anna, Register{Channel: ChannelEmail}).
		refused(anna, Abandon{}, CodeNotADraft, "")
}

func TestUnitReturnsTicket(t *testing.T) {
	s := phoneDraft(t).
		do(anna, Classify{Kind: KindIntervention, Category: 5}).
		do(anna, Forward{Unit: 3}).
		refused(anna, Return{Reason: "x"}, CodeRoleNotAllowed, "").
		refused(waste, Return{Reason: "x"}, CodeOtherUnit, "").
		refused(roads, Return{}, CodeInvalidField, "reason").
		do(roads, Return{Reason: "teren prywatny, nie pas drogowy"}).is(StatusInProgress)
	if s.ticket.Unit != 0 || Visible(s.ticket, roads) {
		t.Error("a returned ticket still belongs to the unit")
	}
	s.refused(roads, AddNote{Text: "x"}, CodeOtherUnit, "").
		do(anna, Forward{Unit: 6}).is(StatusForwarded).
		refused(anna, Forward{Unit: 6}, CodeInvalidField, "unit").
		do(anna, Forward{Unit: 3}) // redirected without a return
}

func TestSupervisor(t *testing.T) {
	s := phoneDraft(t).
		do(anna, Classify{Kind: KindInformation, Category: 4}).
		refused(bartek, Take{}, CodeNotOwner, "").
		refused(broker, Close{}, CodeNotOwner, "").
		do(bartek, AddNote{Text: "mieszkaniec dzwonił ponownie"}).
		refused(bartek, Reassign{To: bartek.User}, CodeRoleNotAllowed, "").
		refused(supervisor, Reassign{To: anna.User}, CodeInvalidField, "to").
		refused(supervisor, Reassign{}, CodeInvalidField, "to").
		do(supervisor, Reassign{To: bartek.User, Note: "Anna na urlopie"}).
		do(bartek, Close{}).is(StatusClosed).
		refused(bartek, Reopen{Reason: "x"}, CodeRoleNotAllowed, "").
		refused(supervisor, Reopen{}, CodeInvalidField, "reason").
		do(supervisor, Reopen{Reason: "mieszkaniec zgłasza, że informacja była błędna"}).is(StatusInProgress).
		do(supervisor, Close{Note: "poprawiona informacja"}).is(StatusClosed)
	if s.ticket.Owner != bartek.User {
		t.Errorf("owner %v", s.ticket.Owner)
	}
	if got := s.history[3].Fields; len(got) != 1 || got[0] != (FieldChange{"owner", "11", "12"}) {
		t.Errorf("reassign change %v", got)
	}
}

func TestAdministratorHandlesNoTickets(t *testing.T) {
	s := phoneDraft(t)
	for _, a := range matrixActions {
		_, _, err := Apply(s.ticket, a, admin, now)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeRoleNotAllowed {
			t.Errorf("%s by an administrator: %v", a.Type(), err)
		}
	}
}

func TestRegister(t *testing.T) {
	s := newStory(t).
		refused(anna, Register{}, CodeInvalidField, "channel").
		refused(anna, Register{Channel: ChannelPhone}, CodeInvalidField, "channel").
		refused(system, Register{Channel: ChannelWebForm, Number: Number{1990, 1}}, CodeInvalidField, "number").
		do(anna, Register{Channel: ChannelInPerson, Kind: KindIntervention, Category: 5, Due: DueRule{Days: 2}, Note: "zgłoszenie w sali obsługi"})
	if s.ticket.Owner != anna.User || s.ticket.Contacts != 1 || !s.ticket.Registered.Equal(s.clock) {
		t.Errorf("ticket %+v", s.ticket)
	}
	// Monday 10:01 + 2 working days: Wednesday 16:00 Warsaw.
	if want := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC); !s.ticket.Due.Equal(want) {
		t.Errorf("due %s, want %s", s.ticket.Due, want)
	}
	s.refused(anna, Register{Channel: ChannelEmail}, CodeWrongStatus, "")
}

func TestInvalidActors(t *testing.T) {
	s := phoneDraft(t)
	for _, actor := range []Actor{{}, {User: 1, Role: 99}, {User: 15, Role: RoleUnitWorker}, {Role: RoleConsultant}} {
		_, _, err := Apply(s.ticket, AddNote{Text: "x"}, actor, now)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidActor {
			t.Errorf("actor %+v: %v", actor, err)
		}
	}
	if _, _, err := Apply(s.ticket, nil, anna, now); err == nil {
		t.Error("a nil action was applied")
	}
	for _, actor := range []Actor{{}, {Role: RoleUnitWorker}} {
		if Visible(s.ticket, actor) {
			t.Errorf("%+v sees the ticket", actor)
		}
	}
}

func TestErrorMessagesSayWhoWhatWhy(t *testing.T) {
	s := phoneDraft(t).do(anna, Classify{Kind: KindIntervention, Category: 5}).do(anna, Forward{Unit: 3})
	for _, tc := range []struct {
		actor Actor
		a     Action
		want  string
	}{
		{roads, Close{}, "ticket: close: a unit worker may not close a ticket: closing belongs to the consultant who took the ticket, or a supervisor"},
		{waste, ReportHandled{How: "x", When: now}, "ticket: report: ticket 2026/000123 is not forwarded to your unit; unit workers act only on tickets forwarded to their own unit"},
		{bartek, Forward{Unit: 6}, "ticket: forward: ticket 2026/000123 is owned by user 11; only its owner or a supervisor may forward it (a supervisor can reassign it to you)"},
		{anna, Take{}, "ticket: take: ticket 2026/000123 is forwarded; taking is allowed only when it is new"},
		{anna, Reopen{}, "ticket: reopen: a consultant may not reopen a ticket: only a supervisor reopens a closed ticket"},
		{admin, AddNote{Text: "x"}, "ticket: add_note: an administrator may not add a note to a ticket: notes are added by the first line, by a unit worker on a ticket forwarded to their unit, or by the system (a callback's attempts)"},
		{roads, ReportHandled{How: "x"}, "ticket: report: say when the ticket was handled"},
	} {
		_, _, err := Apply(s.ticket, tc.a, tc.actor, s.clock)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
}

func TestChangeRecordsBeforeAndAfter(t *testing.T) {
	s := phoneDraft(t).do(anna, Classify{Kind: KindIntervention, Category: 5}).do(anna, Forward{Unit: 3, Note: "pilne"})
	c := s.history[2]
	got := map[string]FieldChange{}
	for _, f := range c.Fields {
		got[f.Field] = f
	}
	if got["status"] != (FieldChange{"status", "new", "forwarded"}) || got["unit"] != (FieldChange{"unit", "", "3"}) || got["forwarded_at"].After == "" {
		t.Errorf("fields %v", c.Fields)
	}
	if c.Note != "pilne" || c.Actor != anna || c.Ticket != 1 {
		t.Errorf("change %+v", c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"forward"`, `"role":"consultant"`, `"field":"status"`, `"before":"new"`, `"after":"forwarded"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("change JSON %s lacks %s", b, want)
		}
	}
}

func TestTicketJSON(t *testing.T) {
	s := phoneDraft(t).do(anna, Classify{Kind: KindOutOfScope}).do(anna, Forward{External: "Policja"})
	b, err := json.Marshal(s.ticket)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"number":"2026/000123"`, `"kind":"out_of_scope"`, `"status":"closed"`, `"channel":"phone"`, `"escalated":"none"`, `"forwarded_to":"Policja"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("ticket JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), `"report"`) || strings.Contains(string(b), `"due"`) {
		t.Errorf("ticket JSON %s has empty report or due", b)
	}
	var back Ticket
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Status != s.ticket.Status || back.Number != s.ticket.Number || !back.ClosedAt.Equal(s.ticket.ClosedAt) {
		t.Errorf("round trip %+v", back)
	}
}
