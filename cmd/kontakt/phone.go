package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"kontakt/internal/resident"
	"kontakt/internal/switchboard"
)

func init() {
	commands["phone"] = command{"be a simulated resident's phone: answer Kontakt's callbacks to a number", cmdPhone}
}

func cmdPhone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("phone", stderr, `phone [-config FILE] [-number +48600100200] [-ring 2s] [-script "wait 8s, tone 700 5s"] [-once]`)
	path := fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")
	number := fs.String("number", "+48600100200", "the phone's number (the one a callback was booked for)")
	ring := fs.Duration("ring", 2*time.Second, "let a call ring this long before answering")
	script := fs.String("script", "wait 8s, tone 700 5s", "what the resident does once answered (as for kontakt call); then it stays until Kontakt ends the call")
	once := fs.Bool("once", false, "answer one call, then exit")
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
	if cfg.ACD.Callback.Endpoint != "Local/{number}@phones" {
		fmt.Fprintf(stdout, "note: callbacks are dialled as %q; this phone only gets Local/{number}@phones calls (the demo's)\n", cfg.ACD.Callback.Endpoint)
	}
	ph, err := resident.Dial(ctx, resident.Options{Phone: *number, ARI: switchboard.ARIOptions{URL: cfg.ARI.URL, User: cfg.ARI.User,
		Password: cfg.ARI.Password, RequestTimeout: cfg.ARI.RequestTimeout.D()}})
	if err != nil {
		return err
	}
	defer ph.Close()
	fmt.Fprintf(stdout, "phone %s is waiting for Kontakt's callbacks (Ctrl-C to stop)\n", *number)
	for {
		res, err := ph.Answer(ctx, resident.Call{Ring: *ring, Steps: steps})
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil
		}
		if err != nil {
			fmt.Fprintf(stdout, "call: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "answered a call after %s ringing; it lasted %s, ended by %s\n",
				res.AnswerWait.Round(time.Millisecond), res.Duration.Round(time.Millisecond), res.HungUpBy)
		}
		if *once {
			return err
		}
	}
}
