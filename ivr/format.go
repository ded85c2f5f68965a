package ivr

import (
	"strconv"
	"strings"
	"time"
)

var months = map[Lang][12]string{
	LangPL: {"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
	LangEN: {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	LangUK: {"січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня", "листопада", "грудня"},
}

// SpokenDate writes a date the way it is said in l: "29 marca 2026", "29 March 2026",
// "29 березня 2026 року".
func SpokenDate(t time.Time, l Lang) string {
	mn, ok := months[l]
	if !ok {
		mn = months[LangEN]
	}
	s := strconv.Itoa(t.Day()) + " " + mn[t.Month()-1] + " " + strconv.Itoa(t.Year())
	if l == LangUK {
		s += " року"
	}
	return s
}

// SpokenDigits spaces a number's digits so that it is read digit by digit ("1 2 3 4").
func SpokenDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fillTicket fills a "found" template's placeholders.
func fillTicket(tmpl, number string, t TicketInfo, l Lang, loc *time.Location) string {
	updated := ""
	if !t.Updated.IsZero() {
		updated = SpokenDate(t.Updated.In(loc), l)
	}
	return strings.NewReplacer(
		"{number}", SpokenDigits(number),
		"{status}", t.Status,
		"{category}", t.Category,
		"{unit}", t.Unit,
		"{updated}", updated,
	).Replace(tmpl)
}
