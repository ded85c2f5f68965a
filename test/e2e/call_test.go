package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kontakt/internal/resident"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
)

func TestE2ECallCreatesLinkedTicket(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, switchboard.GreetingFlow{Prompts: []string{env.hello}})
	res, err := dialResident(t, cfg).Place(context.Background(), resident.Call{CallerID: "+48600100200", Stay: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Answered || res.HungUpBy != "kontakt" {
		t.Fatalf("resident saw %+v; want answered and ended by kontakt", res)
	}
	c := endedCall(t, a.Store, res.Ref)
	if c.Outcome != "self_service" || c.TicketID == 0 || c.AnsweredAt == nil {
		t.Fatalf("call row %+v", c)
	}
	tk, err := a.Store.Ticket(context.Background(), c.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{4}/\d{6}$`).MatchString(tk.Number) || tk.Channel != "phone" || tk.CallerPhone != "+48600100200" {
		t.Fatalf("ticket %+v", tk)
	}
	got := eventTypes(t, a.Store, c.ID)
	want := []string{"stasis_start", "bridged", "answered", "prompt_started", "prompt_finished", "kontakt_hangup", "ended"}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	evs, _ := a.Store.CallEvents(context.Background(), c.ID)
	t.Logf("ticket %s, answer wait %s, call %s, StasisStart→prompt started %s", tk.Number, res.AnswerWait, res.Duration,
		evs[3].At.Sub(evs[0].At))
}

func TestE2EResidentHangsUpDuringGreeting(t *testing.T) {
	cfg := testConfig()
	// The real greeting lasts well over a second; the resident leaves after one.
	a := startApp(t, cfg, nil)
	steps, _ := resident.ParseScript("wait 1s, hangup")
	res, err := dialResident(t, cfg).Place(context.Background(), resident.Call{CallerID: "+48600100201", Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if res.HungUpBy != "resident" {
		t.Fatalf("resident saw %+v", res)
	}
	c := endedCall(t, a.Store, res.Ref)
	if c.Outcome != "abandoned" || c.TicketID == 0 {
		t.Fatalf("call row %+v; want abandoned with a ticket", c)
	}
	got := eventTypes(t, a.Store, c.ID)
	if !slices.Contains(got, "caller_hangup") || slices.Contains(got, "kontakt_hangup") || got[len(got)-1] != "ended" {
		t.Fatalf("events %v: want caller_hangup, no kontakt_hangup, ended last", got)
	}
	if !slices.Contains(got, "prompt_started") {
		t.Fatalf("events %v: the greeting never started", got)
	}
}

func TestE2EDTMFIsRecorded(t *testing.T) {
	cfg := testConfig()
	flow := flowFunc(func(ctx context.Context, c *switchboard.Call) (switchboard.Outcome, error) {
		var keys string
		for len(keys) < 3 {
			ev, err := c.Next(ctx)
			if err != nil {
				return switchboard.OutcomeUnknown, err
			}
			if ev.Type == "ChannelDtmfReceived" {
				keys = strings.TrimSpace(keys + digit(ev))
			}
		}
		if keys != "12#" {
			return switchboard.OutcomeFailed, fmt.Errorf("keys %q", keys)
		}
		return switchboard.OutcomeSelfService, nil
	})
	a := startApp(t, cfg, flow)
	steps, _ := resident.ParseScript("wait 300ms, dtmf 12#")
	res, err := dialResident(t, cfg).Place(context.Background(), resident.Call{CallerID: "+48600100202", Steps: steps, Stay: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := endedCall(t, a.Store, res.Ref)
	if c.Outcome != "self_service" {
		t.Fatalf("outcome %s (the flow did not get 1, 2, #)", c.Outcome)
	}
	evs, _ := a.Store.CallEvents(context.Background(), c.ID)
	var digits string
	for _, e := range evs {
		if e.Type == "dtmf" {
			digits += e.Data["digit"].(string)
		}
	}
	if digits != "12#" {
		t.Fatalf("dtmf events %q, want 12#", digits)
	}
}

func TestE2ESIPCallFromSipp(t *testing.T) {
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp (Debian package sip-tester) is required: run scripts/install-deps.sh")
	}
	cfg := testConfig()
	a := startApp(t, cfg, switchboard.GreetingFlow{Prompts: []string{env.hello, env.hello, env.hello, env.hello}})
	since := time.Now()
	// sipp's built-in UAC: INVITE 19115 through the trunk, ACK, stay 1.5 s, BYE.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port := strconv.Itoa(env.st.Asterisk.SIPPort)
	out, err := exec.CommandContext(ctx, "sipp", "-sn", "uac", "-s", "19115", "127.0.0.1:"+port,
		"-i", "127.0.0.1", "-p", "0", "-m", "1", "-d", "1500", "-timeout", "20s", "-nostdin", "-trace_err",
		"-error_file", t.TempDir()+"/sipp.err").CombinedOutput()
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	var c store.Call
	waitFor(t, 20*time.Second, "the SIP call closed in the database", func() bool {
		err := a.Store.DB().QueryRow(context.Background(), `SELECT id FROM calls WHERE caller = 'sipp' AND started_at >= $1 AND ended_at IS NOT NULL`, since).Scan(&c.ID)
		return err == nil
	})
	c, err = a.Store.Call(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.TicketID == 0 || c.Outcome != "abandoned" || !strings.HasPrefix(c.ChannelID, "") {
		t.Fatalf("call %+v: want a ticket and outcome abandoned (sipp hung up during the greeting)", c)
	}
	got := eventTypes(t, a.Store, c.ID)
	if got[0] != "stasis_start" || !slices.Contains(got, "answered") || !slices.Contains(got, "caller_hangup") {
		t.Fatalf("events %v", got)
	}
}

type flowFunc func(ctx context.Context, c *switchboard.Call) (switchboard.Outcome, error)

func (f flowFunc) Handle(ctx context.Context, c *switchboard.Call) (switchboard.Outcome, error) {
	return f(ctx, c)
}
