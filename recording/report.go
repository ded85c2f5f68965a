package recording

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ReportListLimit bounds the items WriteText lists per section (the counts are always complete;
// the JSON form of a Report has every item).
const ReportListLimit = 50

// WriteText writes the report for an operator.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	zone := r.Now.Location()
	day := func(t time.Time) string { return t.In(zone).Format("2006-01-02") }
	verb := func(done, would string) string {
		if r.DryRun {
			return would
		}
		return done
	}
	if r.DryRun {
		fmt.Fprintf(&b, "DRY RUN at %s: nothing was changed\n", r.Now.Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "purge at %s\n", r.Now.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\nrecordings %s: %d (%s)\n", verb("deleted", "to delete"), len(r.Recordings), FormatBytes(r.BytesFreed))
	list(&b, len(r.Recordings), func(i int) string {
		x := r.Recordings[i]
		path := x.Path
		if path == "" {
			path = "no file"
		}
		s := fmt.Sprintf("#%d call %s leg %d, %s, %s, %s, expired %s", x.ID, x.CallID, x.Leg, x.State, path,
			FormatBytes(x.Bytes), day(x.RetentionUntil))
		if x.SHA256 != "" {
			s += ", sha256 " + x.SHA256
		}
		if x.FileMissing {
			s += " (the file was already missing)"
		}
		return s
	})
	fmt.Fprintf(&b, "\nexpired recordings kept by a legal hold: %d\n", len(r.Held))
	list(&b, len(r.Held), func(i int) string {
		x := r.Held[i]
		return fmt.Sprintf("#%d expired %s, held until %s: %s", x.ID, day(x.RetentionUntil), day(x.HoldUntil), x.Reason)
	})
	fmt.Fprintf(&b, "\ntickets %s: %d\n", verb("anonymised", "to anonymise"), len(r.Tickets))
	list(&b, len(r.Tickets), func(i int) string {
		x := r.Tickets[i]
		fields := strings.Join(x.Fields, ", ")
		if fields == "" {
			fields = "no ticket fields"
		}
		return fmt.Sprintf("%s (%s, registered %s): %s; %d call(s), %d call event(s), %d history entries", x.Number, x.Status,
			day(x.RegisteredAt), fields, x.Calls, x.CallEvents, x.History)
	})
	fmt.Fprintf(&b, "\nexpired tickets kept because a recording of theirs is under legal hold: %d\n", len(r.TicketsHeld))
	list(&b, len(r.TicketsHeld), func(i int) string { return r.TicketsHeld[i].Number })
	fmt.Fprintf(&b, "\norphan files (in the archive, no recording row; not deleted): %d\n", len(r.OrphanFiles))
	list(&b, len(r.OrphanFiles), func(i int) string {
		x := r.OrphanFiles[i]
		return fmt.Sprintf("%s (%s): %s", x.Path, FormatBytes(x.Bytes), x.Hint)
	})
	fmt.Fprintf(&b, "\norphan rows (recording row, no file in the archive): %d\n", len(r.OrphanRows))
	list(&b, len(r.OrphanRows), func(i int) string {
		x := r.OrphanRows[i]
		return fmt.Sprintf("#%d call %s leg %d, %s: %s missing", x.ID, x.CallID, x.Leg, x.State, x.Path)
	})
	if len(r.Problems) > 0 {
		fmt.Fprintf(&b, "\nPROBLEMS: %d\n", len(r.Problems))
		list(&b, len(r.Problems), func(i int) string { return r.Problems[i] })
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func list(b *strings.Builder, n int, item func(int) string) {
	for i := 0; i < n && i < ReportListLimit; i++ {
		fmt.Fprintf(b, "  %s\n", item(i))
	}
	if n > ReportListLimit {
		fmt.Fprintf(b, "  … and %d more (-json lists all)\n", n-ReportListLimit)
	}
}

// FormatBytes writes a size for people: 937.5 KiB, 3.2 GiB.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
