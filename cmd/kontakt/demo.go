package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"kontakt/internal/app"
	"kontakt/internal/config"
	"kontakt/internal/stack"
)

func init() {
	commands["demo"] = command{"start Postgres, Asterisk and kontakt locally with demo data (Ctrl-C stops all)", cmdDemo}
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("demo", stderr, "demo [-dir DIR] [-listen ADDR]")
	dir := fs.String("dir", ".runtime", "runtime directory for the database, Asterisk and their logs")
	listen := fs.String("listen", "127.0.0.1:8080", "address of kontakt's web server")
	sip := fs.Int("sip-port", 5060, "Asterisk's SIP (UDP) port on 127.0.0.1; 0 picks a free one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	started := time.Now()
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Starting Postgres and Asterisk in %s …\n", abs)
	st, err := stack.Start(ctx, stack.Options{Dir: abs, SIPPort: *sip})
	if err != nil {
		return err
	}
	defer st.Stop()
	cfg := st.KontaktConfig(*listen)
	cfg.ACD.Callback.OfferAfter = config.Duration(30 * time.Second) // soon enough to try in the demo
	cfgPath := filepath.Join(abs, "kontakt.json")
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	return serve(ctx, cfg, log, func(a *app.App) {
		if err := a.SeedDemo(ctx); err != nil {
			log.Error("demo data not seeded", "err", err)
		}
		var users string
		for _, u := range app.DemoUsers {
			users += fmt.Sprintf("\n                  %-6s / %-18s %v", u.Login, u.Password, u.Roles)
		}
		fmt.Fprintf(stdout, `
Kontakt is running (ready %.1fs after start).

  Web:            http://%s/   (health: /healthz, readiness: /readyz, metrics: /metrics)
  Agent desktop:  http://%s/agent/   sign in as (login / password, roles):%s
  Configuration:  %s
  Place a call:   KONTAKT_CONFIG=%s ./bin/kontakt call
                  (a simulated resident dials 19115; it prints the ticket and the call's events)
  Callback:       KONTAKT_CONFIG=%s ./bin/kontakt phone    (the resident's phone, +48600100200;
                  it answers Kontakt's callbacks) and, in another terminal, book one in the menu:
                  KONTAKT_CONFIG=%s ./bin/kontakt call -script "wait 22s, dtmf 1, wait 1s, dtmf *, wait 1s, dtmf 1"
                  When a consultant is ready on the agent desktop the phone rings and is connected.
                  (A caller waiting 30 s with no consultant free is offered a callback too: press 1.)
  SIP phone:      register user phone1 / password change-me-too at 127.0.0.1:%d and dial 19115
                  (or send a trunk call: sipp -sn uac -s 19115 127.0.0.1:%d -m 1)
  Asterisk CLI:   asterisk -C %s -r
  Logs:           %s/asterisk/log, %s/postgres/postgres.log

Press Ctrl-C to stop everything (twice to force).
`, time.Since(started).Seconds(), a.Addr(), a.Addr(), users, cfgPath, cfgPath, cfgPath, cfgPath, st.Asterisk.SIPPort, st.Asterisk.SIPPort,
			st.Asterisk.ConfigFile(), abs, abs)
	})
}
