package crm_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// § 8: an information request taken by phone, classified and answered from the article, closed
// by the consultant.
func TestInformationRequestClosedByConsultant(t *testing.T) {
	e := newEnv(t)
	id := e.phoneDraft("00000000-0000-4000-8000-000000000001", "+48600100200")
	r := e.must(e.act(&e.consultant, id, map[string]any{"action": "classify", "category": "id_card"}), 200)
	if r.str("kind") != "information" || r.str("category") != "id_card" || r.num("owner") != float64(e.consultant.UserID) {
		t.Fatalf("classified: %s", r.Body)
	}
	// 3 working days from Monday 10:00: Thursday 16:00.
	if due := r.str("due"); due != "2026-05-07T16:00:00+02:00" {
		t.Fatalf("due %s, want Thursday 16:00", due)
	}
	// Another consultant may not close the ticket anna took.
	e.refused(e.act(&e.consultant2, id, map[string]any{"action": "close"}), http.StatusForbidden, "not_owner")
	// A unit worker may not act on a ticket not forwarded to them: it does not exist for them.
	e.refused(e.act(&e.civil, id, map[string]any{"action": "close"}), http.StatusNotFound, "not_found")
	r = e.must(e.act(&e.consultant, id, map[string]any{"action": "close", "note": "answered from the article"}), 200)
	if r.str("status") != "closed" || r.str("closed_at") == "" {
		t.Fatalf("closed: %s", r.Body)
	}
	if h := e.history(id); !slices.Equal(h, []string{"classify", "close"}) {
		t.Fatalf("history %v", h)
	}
	// Reopening is the supervisor's alone.
	e.refused(e.act(&e.consultant, id, map[string]any{"action": "reopen", "reason": "x"}), http.StatusForbidden, "role_not_allowed")
	r = e.must(e.act(&e.supervisor, id, map[string]any{"action": "reopen", "reason": "the resident called back"}), 200)
	if r.str("status") != "in_progress" {
		t.Fatalf("reopened: %s", r.Body)
	}
}

// § 8 ust. 3–4: an information request the article does not answer is forwarded to the unit
// (the forward must say why), the unit reports, the consultant closes.
func TestInformationRequestForwarded(t *testing.T) {
	e := newEnv(t)
	id := e.create(&e.consultant, map[string]any{"channel": "email", "category": "id_card", "description": "Czy mogę odebrać dowód syna?",
		"caller_email": "jan@example.pl"})
	r := e.act(&e.consultant, id, map[string]any{"action": "forward"})
	e.refused(r, http.StatusUnprocessableEntity, "invalid_field")
	if r.str("error.fields.0.field") != "note" {
		t.Fatalf("want the note named: %s", r.Body)
	}
	r = e.must(e.act(&e.consultant, id, map[string]any{"action": "forward", "note": "the article does not cover collection by a relative"}), 200)
	if r.str("status") != "forwarded" || r.str("unit") != "civil_affairs" {
		t.Fatalf("forwarded: %s", r.Body)
	}
	// The unit sees it, another unit does not.
	e.must(e.do(&e.civil, "GET", "/api/v1/tickets/"+id, nil), 200)
	e.refused(e.do(&e.roads, "GET", "/api/v1/tickets/"+id, nil), http.StatusNotFound, "not_found")
	when := e.now.Add(-time.Hour).Format(time.RFC3339)
	e.must(e.act(&e.civil, id, map[string]any{"action": "report", "how": "answered by phone", "when": when}), 200)
	r = e.must(e.act(&e.consultant, id, map[string]any{"action": "close", "note": "the unit answered"}), 200)
	if r.str("status") != "closed" || r.str("report.how") != "answered by phone" {
		t.Fatalf("closed: %s", r.Body)
	}
	if h := e.history(id); !slices.Equal(h, []string{"register", "forward", "report", "close"}) {
		t.Fatalf("history %v", h)
	}
}

// § 9: an intervention is forwarded to the unit, which reports how and when; only then does the
// consultant close it.
func TestInterventionPath(t *testing.T) {
	e := newEnv(t)
	id := e.create(&e.consultant, map[string]any{"channel": "chat", "category": "pothole", "description": "Dziura na Piotrkowskiej",
		"address": map[string]any{"text": "ul. Piotrkowska 182, Łódź"}})
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+id, nil), 200)
	if r.str("kind") != "intervention" || r.str("address.street") != "Piotrkowska" || r.str("address.house_number") != "182" {
		t.Fatalf("created: %s", r.Body)
	}
	e.refused(e.act(&e.consultant, id, map[string]any{"action": "close"}), http.StatusConflict, "report_required")
	// Brokers and other consultants may not forward anna's ticket; the administrator handles none.
	e.refused(e.act(&e.broker, id, map[string]any{"action": "forward"}), http.StatusForbidden, "not_owner")
	e.refused(e.act(&e.admin, id, map[string]any{"action": "forward"}), http.StatusForbidden, "role_not_allowed")
	r = e.must(e.act(&e.consultant, id, map[string]any{"action": "forward"}), 200)
	if r.str("unit") != "roads_transport" || r.str("unit_name") != "Zarząd Dróg i Transportu" {
		t.Fatalf("forwarded to the category's unit: %s", r.Body)
	}
	// The wrong unit cannot report; the right one must say how and when.
	e.refused(e.act(&e.waste, id, map[string]any{"action": "report", "how": "x", "when": e.now.Format(time.RFC3339)}), http.StatusNotFound, "not_found")
	r = e.act(&e.roads, id, map[string]any{"action": "report", "how": "patched"})
	if r.Status != http.StatusUnprocessableEntity || r.str("error.fields.0.field") != "when" {
		t.Fatalf("report without when: %s", r.Body)
	}
	r = e.act(&e.roads, id, map[string]any{"action": "report", "how": "patched", "when": e.now.Add(time.Hour).Format(time.RFC3339)})
	e.refused(r, http.StatusUnprocessableEntity, "invalid_field")
	e.must(e.act(&e.roads, id, map[string]any{"action": "add_note", "text": "crew sent"}), 200)
	e.must(e.act(&e.roads, id, map[string]any{"action": "report", "how": "patched with asphalt", "when": e.now.Format(time.RFC3339)}), 200)
	// A unit worker never closes.
	e.refused(e.act(&e.roads, id, map[string]any{"action": "close"}), http.StatusForbidden, "role_not_allowed")
	r = e.must(e.act(&e.consultant, id, map[string]any{"action": "close"}), 200)
	if r.str("status") != "closed" {
		t.Fatalf("closed: %s", r.Body)
	}
	// The unit still sees what it handled, and its history.
	e.must(e.do(&e.roads, "GET", "/api/v1/tickets/"+id+"/history", nil), 200)
	hr := e.must(e.do(&e.supervisor, "GET", "/api/v1/tickets/"+id+"/history", nil), 200)
	if hr.str("items.1.action") != "forward" || hr.str("items.1.after.status") != "forwarded" || hr.str("items.1.before.status") != "new" {
		t.Fatalf("history keeps before and after: %s", hr.Body)
	}
	if hr.num("items.2.actor.user") != float64(e.roads.UserID) || hr.str("items.2.actor.role") != "unit_worker" {
		t.Fatalf("history keeps who: %s", hr.Body)
	}
}

// § 10: out of scope is forwarded to whoever is competent and closed by that.
func TestOutOfScope(t *testing.T) {
	e := newEnv(t)
	id := e.create(&e.consultant, map[string]any{"channel": "in_person", "category": "out_of_scope", "description": "Pytanie o emeryturę"})
	e.refused(e.act(&e.consultant, id, map[string]any{"action": "close"}), http.StatusConflict, "kind_required")
	r := e.act(&e.consultant, id, map[string]any{"action": "forward"})
	e.refused(r, http.StatusUnprocessableEntity, "invalid_field")
	r = e.must(e.act(&e.consultant, id, map[string]any{"action": "forward", "external": "ZUS"}), 200)
	if r.str("status") != "closed" || r.str("forwarded_to") != "ZUS" {
		t.Fatalf("forwarded out: %s", r.Body)
	}
}

// A unit returns a ticket that is not theirs; it goes back to the first line without a unit.
func TestUnitReturnsTicket(t *testing.T) {
	e := newEnv(t)
	id := e.create(&e.consultant, map[string]any{"channel": "fax", "category": "illegal_dump", "description": "Gruz w parku"})
	e.must(e.act(&e.consultant, id, map[string]any{"action": "forward", "unit": "roads_transport"}), 200)
	e.refused(e.act(&e.roads, id, map[string]any{"action": "return"}), http.StatusUnprocessableEntity, "invalid_field")
	e.must(e.act(&e.roads, id, map[string]any{"action": "return", "reason": "the park belongs to the green areas unit"}), 200)
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+id, nil), 200)
	if r.str("status") != "in_progress" || r.str("unit") != "" {
		t.Fatalf("returned: %s", r.Body)
	}
	e.refused(e.do(&e.roads, "GET", "/api/v1/tickets/"+id, nil), http.StatusNotFound, "not_found")
	e.must(e.act(&e.consultant, id, map[string]any{"action": "forward", "unit": "green_areas"}), 200)
	// Forwarding to an unknown unit names the field.
	r = e.act(&e.consultant, id, map[string]any{"action": "forward", "unit": "nowhere"})
	if r.Status != http.StatusUnprocessableEntity || r.str("error.fields.0.field") != "unit" {
		t.Fatalf("unknown unit: %s", r.Body)
	}
}

// Phone drafts: marked abandoned when nobody talked; other tickets are not drafts.
func TestAbandonAndTake(t *testing.T) {
	e := newEnv(t)
	id := e.phoneDraft("00000000-0000-4000-8000-000000000002", "+48600100300")
	r := e.must(e.act(&e.consultant, id, map[string]any{"action": "abandon"}), 200)
	if r.str("status") != "abandoned_call" {
		t.Fatalf("abandoned: %s", r.Body)
	}
	web := e.create(&e.consultant, map[string]any{"channel": "web_form", "category": "noise", "description": "Głośna muzyka"})
	e.refused(e.act(&e.consultant, web, map[string]any{"action": "abandon"}), http.StatusConflict, "not_a_draft")
	e.must(e.act(&e.consultant, web, map[string]any{"action": "take"}), 200)
	e.refused(e.act(&e.consultant, web, map[string]any{"action": "take"}), http.StatusConflict, "wrong_status")
}

// Supervisors reassign; the new owner may act, the old one may not; escalate is the system's.
func TestReassignAndSystemOnlyActions(t *testing.T) {
	e := newEnv(t)
	id := e.create(&e.consultant, map[string]any{"channel": "email", "category": "pothole", "description": "Dziura"})
	e.refused(e.act(&e.consultant, id, map[string]any{"action": "reassign", "to": e.consultant2.UserID}), http.StatusForbidden, "role_not_allowed")
	r := e.must(e.act(&e.supervisor, id, map[string]any{"action": "reassign", "to": e.consultant2.UserID, "note": "anna is on leave"}), 200)
	if r.num("owner") != float64(e.consultant2.UserID) {
		t.Fatalf("reassigned: %s", r.Body)
	}
	e.refused(e.act(&e.consultant, id, map[string]any{"action": "forward"}), http.StatusForbidden, "not_owner")
	e.must(e.act(&e.consultant2, id, map[string]any{"action": "forward"}), 200)
	e.refused(e.act(&e.supervisor, id, map[string]any{"action": "escalate", "level": "owner"}), http.StatusForbidden, "role_not_allowed")
	// Repeat contacts and notes by anyone on the first line.
	r = e.must(e.act(&e.broker, id, map[string]any{"action": "add_contact", "channel": "phone", "note": "called again"}), 200)
	if r.num("contacts") != 2 {
		t.Fatalf("contacts: %s", r.Body)
	}
	e.refused(e.act(&e.consultant, id, map[string]any{"action": "merge"}), http.StatusUnprocessableEntity, "validation")
}

// Phone tickets are the switchboard's; the API registers every other channel.
func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	e.refused(e.do(&e.consultant, "POST", "/api/v1/tickets", map[string]any{"channel": "phone", "description": "x"}),
		http.StatusUnprocessableEntity, "invalid_field")
	r := e.do(&e.consultant, "POST", "/api/v1/tickets", map[string]any{"channel": "pigeon", "kind": "urgent"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad enums: %s", r.Body)
	}
	r = e.do(&e.consultant, "POST", "/api/v1/tickets", map[string]any{"channel": "web_form", "category": "nope", "caller_phone": "abc",
		"caller_email": "not-mail", "address": map[string]any{"lat": 95.0}})
	e.refused(r, http.StatusUnprocessableEntity, "validation")
	var got []string
	for _, f := range r.get("error.fields").([]any) {
		got = append(got, f.(map[string]any)["field"].(string))
	}
	for _, want := range []string{"description", "caller_phone", "caller_email", "address.lat", "category"} {
		if !slices.Contains(got, want) {
			t.Errorf("field %s not reported: %v", want, got)
		}
	}
	e.refused(e.do(&e.consultant, "POST", "/api/v1/tickets", `{"channel":"email","descripton":"typo"}`), http.StatusBadRequest, "bad_request")
	r = e.do(&e.consultant, "POST", "/api/v1/tickets", `{"channel":"email","description":5}`)
	if r.Status != http.StatusBadRequest || r.str("error.fields.0.field") != "description" {
		t.Fatalf("type error: %s", r.Body)
	}
	e.refused(e.do(nil, "GET", "/api/v1/tickets", nil), http.StatusUnauthorized, "unauthenticated")
	e.refused(e.do(&e.roads, "POST", "/api/v1/tickets", map[string]any{"channel": "email", "description": "x"}), http.StatusForbidden, "role_not_allowed")
}

// A unit worker sees and lists their own unit's tickets only.
func TestUnitWorkerSeesOwnUnitOnly(t *testing.T) {
	e := newEnv(t)
	road := e.create(&e.consultant, map[string]any{"channel": "email", "category": "pothole", "description": "Dziura"})
	dump := e.create(&e.consultant, map[string]any{"channel": "email", "category": "illegal_dump", "description": "Śmieci"})
	e.must(e.act(&e.consultant, road, map[string]any{"action": "forward"}), 200)
	e.must(e.act(&e.consultant, dump, map[string]any{"action": "forward"}), 200)
	list := func(p, q string) []string {
		r := e.must(e.do(&e.roads, "GET", "/api/v1/tickets"+q, nil), 200)
		_ = p
		var ids []string
		for _, it := range r.get("items").([]any) {
			ids = append(ids, itoa(int64(it.(map[string]any)["id"].(float64))))
		}
		return ids
	}
	if got := list("roads", ""); !slices.Equal(got, []string{road}) {
		t.Fatalf("roads sees %v, want only %s", got, road)
	}
	// Asking for another unit's tickets gives nothing, not them.
	if got := list("roads", "?unit=waste_management"); len(got) != 0 {
		t.Fatalf("roads listing waste's tickets sees %v", got)
	}
	for _, path := range []string{"/api/v1/tickets/" + dump, "/api/v1/tickets/" + dump + "/history"} {
		e.refused(e.do(&e.roads, "GET", path, nil), http.StatusNotFound, "not_found")
	}
	e.refused(e.act(&e.roads, dump, map[string]any{"action": "add_note", "text": "x"}), http.StatusNotFound, "not_found")
	r := e.must(e.do(&e.roads, "GET", "/api/v1/tickets/suggestions?category=illegal_dump&street=x", nil), 200)
	if n := len(r.get("nearby").([]any)); n != 0 {
		t.Fatalf("suggestions leak other units' tickets: %s", r.Body)
	}
}

func TestListFiltersAndPagination(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, e.create(&e.consultant, map[string]any{"channel": "email", "category": "pothole", "description": "Dziura",
			"caller_phone": "+48 600 100 999"}))
	}
	e.must(e.act(&e.consultant, ids[0], map[string]any{"action": "forward"}), 200)
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets?caller_phone=%2B48600100999&limit=2", nil), 200)
	if n := len(r.get("items").([]any)); n != 2 || r.num("next") == 0 {
		t.Fatalf("page 1: %s", r.Body)
	}
	r2 := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets?caller_phone=%2B48600100999&limit=2&cursor="+itoa(int64(r.num("next"))), nil), 200)
	if r2.num("items.0.id") >= r.num("items.1.id") {
		t.Fatalf("page 2 does not continue page 1: %s", r2.Body)
	}
	r = e.must(e.do(&e.consultant, "GET", "/api/v1/tickets?status=forwarded&unit=roads_transport", nil), 200)
	if n := len(r.get("items").([]any)); n != 1 {
		t.Fatalf("forwarded to roads: %s", r.Body)
	}
	e.now = e.now.Add(7 * 24 * time.Hour)
	r = e.must(e.do(&e.consultant, "GET", "/api/v1/tickets?overdue=true&category=pothole", nil), 200)
	if n := len(r.get("items").([]any)); n != 5 || r.get("items.0.overdue") != true {
		t.Fatalf("overdue: %s", r.Body)
	}
	r = e.do(&e.consultant, "GET", "/api/v1/tickets?status=lost&limit=1000&overdue=maybe", nil)
	if r.Status != http.StatusBadRequest || len(r.get("error.fields").([]any)) != 3 {
		t.Fatalf("bad filters: %s", r.Body)
	}
	// By number, in each spelling.
	num := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+ids[1], nil), 200).str("number")
	for _, ref := range []string{strings.Replace(num, "/", "-", 1), url.PathEscape(num)} {
		r := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+ref, nil), 200)
		if r.str("number") != num {
			t.Fatalf("by %s: %s", ref, r.Body)
		}
	}
}

// Linking a call's draft to an existing ticket: the draft is kept as merged, the call moves to
// the target, the target counts the contact.
func TestLinkCallMergesDraft(t *testing.T) {
	e := newEnv(t)
	target := e.create(&e.consultant2, map[string]any{"channel": "web_form", "category": "pothole", "description": "Dziura",
		"caller_phone": "+48600100200"})
	draft := e.phoneDraft("00000000-0000-4000-8000-000000000003", "+48600100200")
	tnum := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+target, nil), 200).str("number")
	e.refused(e.do(&e.roads, "POST", "/api/v1/tickets/"+draft+"/link", map[string]any{"into": tnum}), http.StatusNotFound, "not_found")
	r := e.must(e.do(&e.consultant, "POST", "/api/v1/tickets/"+draft+"/link", map[string]any{"into": tnum}), 200)
	if r.str("draft.status") != "merged" || r.str("draft.merged_into_number") != tnum || r.num("target.contacts") != 2 || r.num("calls_moved") != 1 {
		t.Fatalf("linked: %s", r.Body)
	}
	// The draft is kept, not deleted.
	d := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+draft, nil), 200)
	if d.str("status") != "merged" {
		t.Fatalf("draft: %s", d.Body)
	}
	c, err := e.store.CallByChannel(e.ctx, "ch-00000000-0000-4000-8000-000000000003")
	if err != nil || itoa(int64(c.TicketID)) != target {
		t.Fatalf("call belongs to %d, want %s (%v)", c.TicketID, target, err)
	}
	if h := e.history(target); !slices.Equal(h, []string{"register", "add_contact"}) {
		t.Fatalf("target history %v", h)
	}
	if h := e.history(draft); !slices.Equal(h, []string{"merge"}) {
		t.Fatalf("draft history %v", h)
	}
	// Linking twice is refused; so is linking to a ticket that does not exist.
	e.refused(e.do(&e.consultant, "POST", "/api/v1/tickets/"+draft+"/link", map[string]any{"into": tnum}), http.StatusConflict, "wrong_status")
	other := e.phoneDraft("00000000-0000-4000-8000-000000000004", "+48600100201")
	r = e.do(&e.consultant, "POST", "/api/v1/tickets/"+other+"/link", map[string]any{"into": "2099/000001"})
	if r.Status != http.StatusUnprocessableEntity || r.str("error.fields.0.field") != "into" {
		t.Fatalf("unknown target: %s", r.Body)
	}
	// Nor into a merged draft.
	e.refused(e.do(&e.consultant, "POST", "/api/v1/tickets/"+other+"/link", map[string]any{"into": draft}), http.StatusUnprocessableEntity, "invalid_field")
}

func TestEditRecordsBeforeAfter(t *testing.T) {
	e := newEnv(t)
	id := e.phoneDraft("00000000-0000-4000-8000-000000000005", "+48600100200")
	r := e.must(e.do(&e.consultant, "PATCH", "/api/v1/tickets/"+id, map[string]any{"description": "Przewrócone drzewo",
		"caller_name": "Anna", "address": map[string]any{"text": "al. Kościuszki 5", "lat": 51.76, "lon": 19.45}}), 200)
	if r.str("address.street") != "Kościuszki" || r.str("caller_name") != "Anna" || r.str("description") != "Przewrócone drzewo" {
		t.Fatalf("edited: %s", r.Body)
	}
	hr := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+id+"/history", nil), 200)
	if hr.str("items.0.action") != "edit" || hr.str("items.0.after.description") != "Przewrócone drzewo" || hr.str("items.0.before.description") != "" {
		t.Fatalf("history: %s", hr.Body)
	}
	// Unit workers report and add notes; they do not rewrite what the resident said.
	road := e.create(&e.consultant, map[string]any{"channel": "email", "category": "pothole", "description": "Dziura"})
	e.must(e.act(&e.consultant, road, map[string]any{"action": "forward"}), 200)
	e.refused(e.do(&e.roads, "PATCH", "/api/v1/tickets/"+road, map[string]any{"description": "x"}), http.StatusForbidden, "forbidden")
	e.refused(e.do(&e.roads, "PATCH", "/api/v1/tickets/"+id, map[string]any{"description": "x"}), http.StatusNotFound, "not_found")
}
