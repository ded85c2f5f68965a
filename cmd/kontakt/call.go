package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"kontakt/internal/config"
	"kontakt/internal/resident"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
)

func init() {
	commands["call"] = command{"place a simulated resident's call to 19115 and print what happened", cmdCall}
}

func cmdCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("call", stderr, `call [-config FILE] [-from NUMBER] [-script "wait 2s, dtmf 1, tone 1000 1s, hangup"] [-stay DURATION] [-json]`)
	path := fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")
	from := fs.String("from", "+48600100200", "the resident's phone number")
	script := fs.String("script", "", "what the resident does once answered: wait D, dtmf KEYS, tone HZ D, hangup (comma-separated)")
	stay := fs.Duration("stay", 0, "after the script, hang up after this long if Kontakt has not ended the call (0: wait for Kontakt, at most 10m)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	steps, err := resident.ParseScript(*script)
	if err != nil {
		return fmt.Errorf("-script: %w", err)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	out, err := placeCall(ctx, cfg, resident.Call{CallerID: *from, Steps: steps, Stay: *stay})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "call from %s: answered after %s, lasted %s, ended by %s\n", *from,
		out.Resident.AnswerWait.Round(time.Millisecond), out.Resident.Duration.Round(time.Millisecond), out.Resident.HungUpBy)
	if out.Ticket != "" {
		fmt.Fprintf(stdout, "ticket %s, call %s, outcome %s\n", out.Ticket, out.CallID, out.Outcome)
		for _, e := range out.Events {
			fmt.Fprintf(stdout, "  %s\n", e)
		}
	} else {
		fmt.Fprintln(stdout, "no call row found in the database (is kontakt serve running?)")
	}
	return nil
}

// callReport is what `kontakt call` prints.
type callReport struct {
	Resident resident.Result `json:"resident"`
	CallID   string          `json:"call_id,omitempty"`
	Ticket   string          `json:"ticket,omitempty"`
	Outcome  string          `json:"outcome,omitempty"`
	Events   []string        `json:"events,omitempty"`
}

func placeCall(ctx context.Context, cfg config.Config, call resident.Call) (callReport, error) {
	var rep callReport
	cl, err := resident.Dial(ctx, resident.Options{ARI: switchboard.ARIOptions{URL: cfg.ARI.URL, User: cfg.ARI.User,
		Password: cfg.ARI.Password, RequestTimeout: cfg.ARI.RequestTimeout.D()}})
	if err != nil {
		return rep, err
	}
	defer cl.Close()
	if call.Stay == 0 {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		ctx = cctx
	}
	res, err := cl.Place(ctx, call)
	rep.Resident = res
	if err != nil {
		return rep, err
	}
	pool, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return rep, err
	}
	defer pool.Close()
	st := store.New(pool, cfg.Location())
	// The call's rows are written by kontakt in the background: wait until the call is closed.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := st.CallByRef(ctx, res.Ref)
		if err == nil && c.EndedAt != nil {
			t, err := st.Ticket(ctx, c.TicketID)
			if err != nil {
				return rep, err
			}
			rep.CallID, rep.Ticket, rep.Outcome = string(c.ID), t.Number, c.Outcome
			evs, err := st.CallEvents(ctx, c.ID)
			if err != nil {
				return rep, err
			}
			for _, e := range evs {
				rep.Events = append(rep.Events, fmt.Sprintf("%3d %s %s", e.Seq, e.At.Format("15:04:05.000"), e.Type))
			}
			return rep, nil
		}
		if err != nil && !store.IsNotFound(err) {
			return rep, err
		}
		if time.Now().After(deadline) {
			return rep, nil
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
