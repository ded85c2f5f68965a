package switchboard

import (
	"context"

	"kontakt/internal/store"
	"kontakt/internal/ticket"
	"kontakt/ivr"
)

// StoreLookup answers ticket status questions from the store.
type StoreLookup struct {
	Store interface {
		TicketByNumber(ctx context.Context, number string) (store.Ticket, error)
	}
}

// statusWords are the ticket statuses as a resident hears them.
var statusWords = map[string]map[ivr.Lang]string{
	"new":              {ivr.LangPL: "przyjęte", ivr.LangEN: "received", ivr.LangUK: "прийнято"},
	"in_progress":      {ivr.LangPL: "w realizacji", ivr.LangEN: "in progress", ivr.LangUK: "в роботі"},
	"forwarded":        {ivr.LangPL: "przekazane do jednostki miejskiej", ivr.LangEN: "forwarded to a city unit", ivr.LangUK: "передано до міського підрозділу"},
	"resolved_by_unit": {ivr.LangPL: "załatwione przez jednostkę", ivr.LangEN: "handled by the unit", ivr.LangUK: "вирішено підрозділом"},
	"closed":           {ivr.LangPL: "zamknięte", ivr.LangEN: "closed", ivr.LangUK: "закрито"},
	"merged":           {ivr.LangPL: "połączone z innym zgłoszeniem", ivr.LangEN: "merged with another report", ivr.LangUK: "об'єднано з іншим зверненням"},
	"abandoned_call":   {ivr.LangPL: "przerwane połączenie", ivr.LangEN: "call ended early", ivr.LangUK: "перерваний дзвінок"},
}

var notGiven = map[ivr.Lang]string{ivr.LangPL: "nie określono", ivr.LangEN: "not set yet", ivr.LangUK: "не визначено"}

// LookupTicket implements TicketLookup: digits keyed on the phone (2026000123 for 2026/000123).
func (l StoreLookup) LookupTicket(ctx context.Context, digits string, lang ivr.Lang) (ivr.LookupResult, store.TicketID, error) {
	res := ivr.LookupResult{Number: digits, Status: ivr.LookupNotFound}
	n, err := ticket.ParseNumberDigits(digits)
	if err != nil {
		return res, 0, nil
	}
	t, err := l.Store.TicketByNumber(ctx, n.String())
	if store.IsNotFound(err) {
		return res, 0, nil
	}
	if err != nil {
		res.Status = ivr.LookupFailed
		return res, 0, err
	}
	word := func(s string) string {
		if s == "" {
			return notGiven[lang]
		}
		return s
	}
	status := statusWords[t.Status][lang]
	if status == "" {
		status = t.Status
	}
	res.Status = ivr.LookupFound // Number stays as keyed: the interpreter matches its question by it
	res.Ticket = ivr.TicketInfo{Status: status, Category: word(t.Category), Unit: word(t.Unit), Updated: t.UpdatedAt}
	return res, t.ID, nil
}
