package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"kontakt/agentd/agent"
	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
)

func init() {
	commands["agent"] = command{"sign in as a headless agent (softphone included), go available and answer calls", cmdAgent}
}

func cmdAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("agent", stderr, "agent -user LOGIN -password-file FILE [-url http://127.0.0.1:8080] [-auto-answer] [-tone HZ] [-wrapup-category SLUG]")
	base := fs.String("url", "http://127.0.0.1:8080", "Kontakt's address (where `kontakt serve` listens)")
	user := fs.String("user", "", "login of a consultant, broker or supervisor")
	passwordFile := fs.String("password-file", "", "file holding the password (first line)")
	autoAnswer := fs.Bool("auto-answer", false, "accept every offer at once")
	toneHz := fs.Float64("tone", 1000, "tone (Hz) the agent's softphone sends into calls; 0 for silence")
	state := fs.String("state", "available", "state after sign-in: available, paused or offline")
	pauseReason := fs.String("pause-reason", "break", "pause reason with -state paused")
	wrapupCategory := fs.String("wrapup-category", "", "submit each wrap-up at once as information in this category (empty: leave it to time out)")
	iceNetworks := fs.String("ice-network", "", "comma-separated CIDRs the softphone may use for ICE (default: every interface and loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *passwordFile == "" {
		fs.Usage()
		return errors.New("-user and -password-file are required")
	}
	pw, err := os.ReadFile(*passwordFile)
	if err != nil {
		return err
	}
	password, _, _ := strings.Cut(string(pw), "\n")
	password = strings.TrimSuffix(password, "\r")
	cookie, err := signIn(ctx, *base, *user, password)
	if err != nil {
		return err
	}
	cfg := media.Config{IncludeLoopback: true}
	if *iceNetworks != "" {
		cfg.Networks = strings.Split(*iceNetworks, ",")
	}
	eng, err := media.New(cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	a, err := agent.Dial(dctx, *base, cookie, agent.Options{Engine: eng, AutoAnswer: *autoAnswer, Tone: *toneHz,
		Client: "kontakt-agent-cli/1"})
	cancel()
	if err != nil {
		return err
	}
	defer a.Close()
	w := a.Welcome()
	fmt.Fprintf(stdout, "signed in as %s (%s, agent %s), state %s\n", w.Agent.Name, strings.Join(w.Agent.Roles, ", "), w.Agent.ID, stateText(w.State.State, w.State.Reason))
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	if err := a.WaitMedia(mctx); err != nil {
		fmt.Fprintf(stdout, "softphone not connected yet: %v\n", err)
	} else {
		fmt.Fprintln(stdout, "softphone connected (PCMU)")
	}
	cancel()
	want, reason := protocol.AgentState(*state), ""
	if want == protocol.StatePaused {
		reason = *pauseReason
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = a.SetState(rctx, want, reason) // the new state is printed from the events
	cancel()
	if err != nil {
		return fmt.Errorf("state.set %s: %w", want, err)
	}
	return agentLoop(ctx, a, stdout, *wrapupCategory)
}

// agentLoop prints what happens until ctx ends, reconnecting (with the resume token) when the
// socket drops.
func agentLoop(ctx context.Context, a *agent.Agent, stdout io.Writer, wrapupCategory string) error {
	backoff := time.Second
	done := a.Done()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "signing out")
			return nil
		case env, ok := <-a.Events():
			if !ok {
				return nil
			}
			printEvent(stdout, env)
			if ws, ok := env.Data.(*protocol.WrapupStarted); ok && wrapupCategory != "" {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := a.SubmitWrapup(rctx, protocol.WrapupSubmit{CallID: ws.CallID, Update: &protocol.TicketUpdate{
					Kind: protocol.KindInformation, Category: wrapupCategory, Notes: "Handled by the headless agent."}})
				cancel()
				if err != nil {
					fmt.Fprintf(stdout, "wrap-up of %s refused: %v\n", ws.CallID, err)
				}
			}
		case <-done:
			fmt.Fprintf(stdout, "connection lost; reconnecting in %s\n", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			w, err := a.Reconnect(rctx)
			cancel()
			if err != nil {
				fmt.Fprintf(stdout, "reconnect failed: %v\n", err)
				backoff = min(2*backoff, 30*time.Second)
				continue
			}
			backoff = time.Second
			done = a.Done()
			if w.Resumed {
				fmt.Fprintln(stdout, "reconnected; session resumed")
			} else {
				fmt.Fprintf(stdout, "reconnected as a fresh session (state %s)\n", stateText(w.State.State, w.State.Reason))
			}
		}
	}
}

func stateText(st protocol.AgentState, reason string) string {
	if reason != "" {
		return string(st) + " (" + reason + ")"
	}
	return string(st)
}

func printEvent(w io.Writer, env protocol.Envelope) {
	switch m := env.Data.(type) {
	case *protocol.Offer:
		caller := m.Caller.Number
		if m.Caller.Withheld {
			caller = "withheld"
		}
		fmt.Fprintf(w, "offer %s: ticket %s (%s), caller %s, queue %s, language %s, waited %s\n", m.OfferID, m.Ticket.Number,
			m.Ticket.Status, caller, m.Queue, m.Language, (time.Duration(m.WaitedMS) * time.Millisecond).Round(100*time.Millisecond))
		var path []string
		for _, s := range m.IVRPath {
			step := s.Label
			if s.Digits != "" {
				step += " [" + s.Digits + "]"
			}
			path = append(path, step)
		}
		if m.Callback != nil {
			fmt.Fprintf(w, "  callback: dialling %s (attempt %d); connected when the resident answers\n", m.Callback.Number, m.Callback.Attempt)
		}
		fmt.Fprintf(w, "  IVR path: %s\n", strings.Join(path, " > "))
		for _, t := range m.RecentTickets {
			fmt.Fprintf(w, "  recent ticket %s: %s %s %s\n", t.Number, t.Kind, t.Status, t.Summary)
		}
		for _, a := range m.Articles {
			fmt.Fprintf(w, "  article %s: %s\n", a.ID, a.Title)
		}
	case *protocol.OfferCancelled:
		fmt.Fprintf(w, "offer %s cancelled: %s\n", m.OfferID, m.Reason)
	case *protocol.CallConnected:
		fmt.Fprintf(w, "call %s connected\n", m.CallID)
	case *protocol.CallHeld:
		fmt.Fprintf(w, "call %s on hold\n", m.CallID)
	case *protocol.CallResumed:
		fmt.Fprintf(w, "call %s resumed\n", m.CallID)
	case *protocol.CallEnded:
		fmt.Fprintf(w, "call %s ended: %s after %s\n", m.CallID, m.Reason, time.Duration(m.DurationMS)*time.Millisecond)
	case *protocol.WrapupStarted:
		fmt.Fprintf(w, "wrap-up of ticket %s until %s\n", m.TicketNumber, m.Deadline.Local().Format(time.TimeOnly))
	case *protocol.WrapupEnded:
		fmt.Fprintf(w, "wrap-up of ticket %s ended: %s\n", m.TicketNumber, m.Reason)
	case *protocol.State:
		fmt.Fprintf(w, "state %s\n", stateText(m.State, m.Reason))
	case *protocol.Error:
		fmt.Fprintf(w, "server error %s: %s\n", m.Code, m.Message)
	}
}

// signIn posts the login and returns the session cookie's value.
func signIn(ctx context.Context, base, login, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("sign-in: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", errors.New("sign-in: wrong login or password")
	case resp.StatusCode/100 != 2:
		return "", fmt.Errorf("sign-in: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	for _, c := range resp.Cookies() {
		if c.Name == "kontakt_session" && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", errors.New("sign-in: the server set no kontakt_session cookie")
}
