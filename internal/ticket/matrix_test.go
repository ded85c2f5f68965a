package ticket

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/transitions.txt and the table in README.md")

var (
	// Monday 2 March 2026, 10:00 Warsaw.
	now        = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	registered = now.Add(-72 * time.Hour)
	// Users of the matrix, one per role; the unit worker belongs to unit 3.
	matrixActors = []Actor{
		{User: 11, Role: RoleConsultant},
		{User: 12, Role: RoleBroker},
		{User: 13, Role: RoleSupervisor},
		{User: 14, Role: RoleAdministrator},
		{User: 15, Role: RoleUnitWorker, Unit: 3},
		{Role: RoleSystem},
	}
)

// fixture is a plausible ticket in status s of kind k, owned by owner, overdue at now.
func fixture(s Status, k Kind, owner UserID) Ticket {
	if s == StatusUnknown {
		return Ticket{}
	}
	t := Ticket{
		ID: 7, Number: Number{2026, 123}, Kind: k, Status: s, Channel: ChannelPhone,
		Owner: owner, Registered: registered, Due: now.Add(-time.Hour), Contacts: 1,
	}
	if k != KindUnknown {
		t.Category = 4
	}
	switch s {
	case StatusForwarded, StatusResolvedByUnit, StatusClosed:
		t.Unit, t.ForwardedAt = 3, registered.Add(time.Hour)
	case StatusMerged:
		t.MergedInto = 8
	}
	if s == StatusResolvedByUnit || (s == StatusClosed && k == KindIntervention) {
		t.Report = Report{How: "załatano ubytek", When: now.Add(-2 * time.Hour), By: 15, At: now.Add(-time.Hour)}
	}
	if s == StatusClosed {
		t.ClosedAt = now.Add(-30 * time.Minute)
	}
	return t
}

// reachable reports whether a ticket can be in status s with kind k: a draft of kind unknown is
// new, taken, merged or abandoned; only an unclassified phone draft is abandoned; an out-of-scope
// ticket is never with a unit (forwarding closes it).
func reachable(s Status, k Kind) bool {
	switch s {
	case StatusUnknown:
		return k == KindUnknown
	case StatusForwarded, StatusResolvedByUnit:
		return k == KindInformation || k == KindIntervention
	case StatusClosed:
		return k != KindUnknown
	case StatusAbandonedCall:
		return k == KindUnknown
	}
	return true
}

// matrixActions is one valid action of each type: refusals in the matrix then come from the
// role, the unit, the status or the kind, not from a missing field.
var matrixActions = []Action{
	Register{Channel: ChannelWebForm, Kind: KindInformation, Category: 4, Due: DueRule{Days: 3}},
	Classify{Kind: KindIntervention, Category: 5, Due: DueRule{Days: 2}},
	Take{},
	Forward{Unit: 6, Note: "artykuł nie wystarcza"},
	Return{Reason: "to nie nasza właściwość"},
	ReportHandled{How: "załatano ubytek", When: now.Add(-time.Hour)},
	Close{Note: "mieszkaniec poinformowany"},
	Reopen{Reason: "ubytek wrócił"},
	Reassign{To: 99},
	Merge{Into: Ticket{ID: 8, Number: Number{2026, 100}, Status: StatusInProgress}},
	Abandon{},
	AddContact{Channel: ChannelPhone},
	AddNote{Text: "dzwonił ponownie"},
	Escalate{Level: EscalationOwner},
}

// matrix runs every action × status × kind × role and writes one cell per run: "→ status" when
// allowed, the error code when refused.
func matrix(t *testing.T) string {
	var buf bytes.Buffer
	for _, a := range matrixActions {
		fmt.Fprintf(&buf, "## %s\n", a.Type())
		w := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		fmt.Fprint(w, "status/kind")
		for _, actor := range matrixActors {
			fmt.Fprintf(w, "\t%s", actor.Role)
		}
		fmt.Fprintln(w)
		for s := StatusUnknown; s <= StatusAbandonedCall; s++ {
			for k := KindUnknown; k <= KindOutOfScope; k++ {
				if !reachable(s, k) {
					continue
				}
				fmt.Fprintf(w, "%s/%s", s, k)
				for _, actor := range matrixActors {
					owner := UserID(11)
					if actor.Role.FirstLine() {
						owner = actor.User
					}
					before := fixture(s, k, owner)
					after, change, err := Apply(before, a, actor, now)
					fmt.Fprintf(w, "\t%s", cell(t, before, after, change, err, a, actor))
				}
				fmt.Fprintln(w)
			}
		}
		w.Flush()
		fmt.Fprintln(&buf)
	}
	return buf.String()
}

// cell checks the invariants of one Apply and names its outcome.
func cell(t *testing.T, before, after Ticket, c Change, err error, a Action, actor Actor) string {
	t.Helper()
	where := fmt.Sprintf("%s by %s on %s/%s", a.Type(), actor.Role, before.Status, before.Kind)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Code == "" || e.Message == "" || e.Action != a.Type() {
			t.Errorf("%s: error %#v is not a complete *Error", where, err)
		}
		if !reflect.DeepEqual(after, before) || !reflect.DeepEqual(c, Change{}) {
			t.Errorf("%s: refused, but the ticket or change is not unchanged/zero", where)
		}
		return string(e.Code)
	}
	if c.Action != a.Type() || c.Actor != actor || !c.At.Equal(now) || c.Ticket != after.ID {
		t.Errorf("%s: change %+v does not say who did what when", where, c)
	}
	if a.Type() != ActionAddNote && len(c.Fields) == 0 {
		t.Errorf("%s: no field changed", where)
	}
	if !Visible(after, actor) && actor.Role == RoleUnitWorker && a.Type() != ActionReturn {
		t.Errorf("%s: a unit worker acted on a ticket they cannot see", where)
	}
	return "→" + after.Status.String()
}

func TestTransitionMatrix(t *testing.T) {
	got := matrix(t)
	const golden = "testdata/transitions.txt"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("transitions differ from %s (run go test -update and review the diff):\n%s", golden, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d\nwant: %s\n got: %s", i+1, wl, gl)
		}
	}
	return ""
}

// roleTable is the role × action table of README.md, made from the rules Apply enforces.
func roleTable() string {
	var b strings.Builder
	b.WriteString("| action | from status | consultant, broker | supervisor | unit worker (own unit) | system | administrator |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, a := range matrixActions {
		r := rules[a.Type()]
		yes := func(role Role) string {
			if !r.who.has(role) {
				return "—"
			}
			if r.owned && (role == RoleConsultant || role == RoleBroker) {
				return "own or unowned"
			}
			return "yes"
		}
		unit := "—"
		if r.who.has(RoleUnitWorker) {
			unit = r.unitFrom.String()
		}
		from := r.from.String()
		if from == "" {
			from = "—"
		}
		if a.Type() == ActionRegister {
			from = "(not registered)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", a.Type(), from,
			yes(RoleConsultant), yes(RoleSupervisor), unit, yes(RoleSystem), yes(RoleAdministrator))
	}
	return b.String()
}

func TestREADMETable(t *testing.T) {
	const (
		path  = "README.md"
		begin = "<!-- begin role table: generated by go test -update -->\n"
		end   = "<!-- end role table -->"
	)
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no role table markers", path)
	}
	want := s[:i+len(begin)] + roleTable() + s[j:]
	if *update && want != s {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != s {
		t.Errorf("the role table in %s is out of date: run go test -update", path)
	}
}
