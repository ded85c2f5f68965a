package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"kontakt/internal/app"
	"kontakt/internal/config"
)

func init() {
	commands["serve"] = command{"run the contact center (ARI controller, API, agents' WebSocket)", cmdServe}
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("serve", stderr, "serve [-config FILE] [-check-config]")
	path := fs.String("config", "", "configuration file (JSON); default $KONTAKT_CONFIG")
	check := fs.Bool("check-config", false, "check the configuration and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if *check {
		fmt.Fprintln(stdout, "configuration OK")
		return nil
	}
	return serve(ctx, cfg, newLogger(cfg, stderr), nil)
}

// serve runs the app until ctx ends (first signal), then drains: no new calls, active calls
// finish, bounded by drain.timeout; a second signal forces the stop. started, if not nil, is
// called once the app is up.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, started func(*app.App)) error {
	a, err := app.New(cfg, app.Options{Log: log})
	if err != nil {
		return err
	}
	// Signals after the first one are watched separately so the second can force.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := a.Start(ctx); err != nil {
		return err
	}
	if started != nil {
		started(a)
	}
	<-ctx.Done()
	log.Info("stop requested: draining (send the signal again to force)", "active_calls", a.Board.Active(),
		"drain_timeout", cfg.Drain.Timeout.D())
	// Drain the signal that ended ctx, if it is still queued.
	select {
	case <-sigs:
	default:
	}
	stopCtx, force := context.WithCancel(context.Background())
	go func() {
		select {
		case <-sigs:
			log.Warn("second signal: forcing the stop", "active_calls", a.Board.Active())
			force()
		case <-stopCtx.Done():
		}
	}()
	a.Stop(stopCtx, false)
	force()
	return nil
}
