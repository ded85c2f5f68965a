package app

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"kontakt/internal/crm"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
	"kontakt/internal/ticket"
)

// callStore is the switchboard's store, with the links it makes between calls and tickets
// going through the CRM's lifecycle rules: the call's draft is merged into the ticket the caller
// asked about by phone, with history, and the ticket counts the repeat contact.
type callStore struct {
	*store.Store
	crm *crm.Service
}

// LinkCallToTicket implements switchboard.Store.
func (s callStore) LinkCallToTicket(ctx context.Context, id store.CallID, t store.TicketID) error {
	c, err := s.Store.Call(ctx, id)
	if err != nil {
		return err
	}
	if c.TicketID == t {
		return nil
	}
	_, err = s.crm.Link(ctx, ticket.Actor{Role: ticket.RoleSystem}, ticket.ID(c.TicketID), ticket.ID(t))
	var pe *pgconn.PgError
	if err != nil && !errors.As(err, &pe) && ctx.Err() == nil {
		// The rules refused (the ticket cannot take the call): retrying cannot change that.
		return switchboard.Refused{Err: err}
	}
	return err
}
