package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kontakt/agentd"
	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
)

// agentCalls is a call side that connects every accepted call and records what it was asked.
type agentCalls struct {
	srv  *agentd.Server
	seen chan string
}

func (c *agentCalls) SetState(_ context.Context, a agentd.AgentID, st protocol.AgentState, reason string) error {
	err := c.srv.StateChanged(a, st, reason, time.Now())
	c.seen <- "state " + string(st)
	return err
}
func (c *agentCalls) Accept(_ context.Context, a agentd.AgentID, call agentd.CallID) error {
	err := c.srv.CallConnected(a, call)
	c.seen <- "accept " + string(call)
	return err
}
func (c *agentCalls) Reject(context.Context, agentd.AgentID, agentd.CallID, string) error { return nil }
func (c *agentCalls) Hangup(context.Context, agentd.AgentID, agentd.CallID, string) error { return nil }
func (c *agentCalls) Hold(context.Context, agentd.AgentID, agentd.CallID) error           { return nil }
func (c *agentCalls) RecordPause(context.Context, agentd.AgentID, agentd.CallID, bool) error {
	return nil
}
func (c *agentCalls) Resume(context.Context, agentd.AgentID, agentd.CallID) error       { return nil }
func (c *agentCalls) Mute(context.Context, agentd.AgentID, agentd.CallID, bool) error   { return nil }
func (c *agentCalls) DTMF(context.Context, agentd.AgentID, agentd.CallID, string) error { return nil }
func (c *agentCalls) Transfer(context.Context, agentd.AgentID, agentd.CallID, string, string) error {
	return nil
}
func (c *agentCalls) WrapUp(_ context.Context, _ agentd.AgentID, call agentd.CallID, w protocol.WrapupSubmit) error {
	c.seen <- "wrapup " + string(call) + " " + w.Update.Category
	return nil
}
func (c *agentCalls) AgentGone(a agentd.AgentID, reason string) { c.seen <- "gone " + reason }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAgentCommand(t *testing.T) {
	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	calls := &agentCalls{seen: make(chan string, 100)}
	srv := agentd.NewServer(agentd.Options{Calls: calls, Media: eng})
	calls.srv = srv
	anna := auth.Principal{UserID: 17, Login: "anna", Name: "Anna Nowak", Roles: []auth.Role{auth.RoleConsultant}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Login, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Login != "anna" || in.Password != "tajne hasło" {
			http.Error(w, "wrong login or password", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "kontakt_session", Value: "sess-anna", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", srv.Handler())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("kontakt_session"); err == nil && c.Value == "sess-anna" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), anna))
		}
		mux.ServeHTTP(w, r)
	}))
	defer ts.Close()
	defer srv.Close(context.Background())

	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("tajne hasło\n"), 0o600)
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("nope\n"), 0o600)
	if code, _, errOut := runCmd("agent", "-url", ts.URL, "-user", "anna", "-password-file", wrong); code != 1 || !strings.Contains(errOut, "wrong login or password") {
		t.Fatalf("wrong password: %d %s", code, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"agent", "--url", ts.URL, "--user", "anna", "--password-file", pwFile, "--auto-answer",
			"--tone", "1000", "--ice-network", "127.0.0.1/32", "--wrapup-category", "waste.bulky"}, &out, &errOut)
	}()
	want := func(s string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case got := <-calls.seen:
				if got == s {
					return
				}
			case <-deadline:
				t.Fatalf("never saw %q; output:\n%s%s", s, out.String(), errOut.String())
			}
		}
	}
	want("state available")
	now := time.Now().UTC()
	err = srv.Offer("u-17", protocol.Offer{OfferID: "o-1", CallID: "call-1", Queue: "waste", ExpiresAt: now.Add(15 * time.Second),
		Caller: protocol.Caller{Number: "+48600100200"}, Language: "pl", WaitedMS: 4100,
		Ticket:  protocol.Ticket{Number: "2026/03/000123", Kind: protocol.KindUnknown, Status: "new", Channel: "phone", CreatedAt: now},
		IVRPath: []protocol.IVRStep{{Node: "welcome", Label: "Powitanie"}, {Node: "topics", Label: "Tematy", Digits: "3"}}})
	if err != nil {
		t.Fatal(err)
	}
	want("accept call-1")
	if err := srv.CallEnded("u-17", "call-1", "caller_hangup"); err != nil {
		t.Fatal(err)
	}
	if err := srv.WrapupStarted("u-17", "call-1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	want("wrapup call-1 waste.bulky")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "ended: submitted"); {
		if time.Now().After(deadline) {
			t.Fatalf("no wrap-up reply:\n%s", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want("gone signed_out")
	for _, s := range []string{"signed in as Anna Nowak (consultant, agent u-17)", "softphone connected", "state available",
		"offer o-1: ticket 2026/03/000123 (new), caller +48600100200, queue waste, language pl, waited 4.1s",
		"IVR path: Powitanie > Tematy [3]", "call call-1 connected", "call call-1 ended: caller_hangup",
		"wrap-up of ticket 2026/03/000123 ended: submitted"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
