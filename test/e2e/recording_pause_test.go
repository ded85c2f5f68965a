package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kontakt/agentd/media"
	"kontakt/agentd/media/tone"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
	"kontakt/internal/resident"
	"kontakt/recording"
)

// pcm16 returns the samples of a 16-bit WAV with a 44-byte header.
func pcm16(wav []byte) []int16 {
	if len(wav) < 44 {
		return nil
	}
	pcm := make([]int16, (len(wav)-44)/2)
	for i := range pcm {
		pcm[i] = int16(wav[44+2*i]) | int16(wav[45+2*i])<<8
	}
	return pcm
}

// firstTone is the offset (ms) of the first 200 ms window of an 8 kHz recording holding freq, or -1.
func firstTone(pcm []int16, freq float64) int64 {
	for i := 0; i+1600 <= len(pcm); i += 800 {
		if tone.Strength(pcm[i:i+1600], freq) > 0.2 {
			return int64(i / 8)
		}
	}
	return -1
}

// silentRun is the longest stretch (start and length in ms) of an 8 kHz recording where every
// sample is within ±limit.
func silentRun(pcm []int16, limit int16) (start, length int64) {
	best, bestAt, run := 0, 0, 0
	for i, s := range pcm {
		if s <= limit && s >= -limit {
			run++
			if run > best {
				best, bestAt = run, i-run+1
			}
		} else {
			run = 0
		}
	}
	return int64(bestAt / 8), int64(best / 8)
}

// TestE2ERecordingPauseLeavesSilentGap: the agent pauses the recording while the resident
// dictates (a 600 Hz tone stands for it), then resumes (800 Hz). The archived file holds silence
// where the pause was, of the same length (the file keeps the call's timeline), none of the 600
// Hz, all of the 800 Hz after it; the pause is in the metadata and in the call's events.
func TestE2ERecordingPauseLeavesSilentGap(t *testing.T) {
	cfg := testConfig()
	cfg.Media.Networks = []string{"127.0.0.1/32"}
	a := startApp(t, cfg, nil)
	useShortMenu(t, a)
	ctx := context.Background()

	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	ag := onDuty(t, wctx, a, eng, "konsultant-pause-e2e", auth.RoleConsultant, 1000)
	if _, err := ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}

	// The resident dictates (600 Hz) only once the recording is paused, stays quiet a second,
	// and waits for the agent to resume before talking again (800 Hz).
	paused, dictated, resumed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	node := awaitNode(a.Store)
	await := func(ctx context.Context, ref, label string) error {
		var ch chan struct{}
		switch label {
		case "paused":
			ch = paused
		case "resumed":
			close(dictated)
			ch = resumed
		default:
			return node(ctx, ref, label)
		}
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	steps, err := resident.ParseScript("await roads, await paused, tone 600 3s, wait 1s, await resumed, tone 800 3s, wait 1s, hangup")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan resident.Result, 1)
	go func() {
		res, err := dialResident(t, cfg).Place(wctx, resident.Call{CallerID: "+48600100600", Steps: steps, Await: await})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	var offer protocol.Offer
	for offer.CallID == "" {
		select {
		case env := <-ag.Events():
			if o, ok := env.Data.(*protocol.Offer); ok {
				offer = *o
			}
		case <-wctx.Done():
			t.Fatal("no offer reached the agent")
		}
	}
	if _, err := ag.Accept(wctx, offer.OfferID); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if _, err := ag.RecordPause(wctx, offer.CallID, false); !isCode(err, protocol.CodeOutOfOrder) {
		t.Errorf("resuming a recording that is not paused: %v, want out_of_order", err)
	}
	pausedAt, err := ag.RecordPause(wctx, offer.CallID, true)
	if err != nil {
		t.Fatalf("pause: %v", err)
	}
	close(paused)
	select {
	case <-dictated:
	case <-wctx.Done():
		t.Fatal("the resident never finished dictating")
	}
	resumedAt, err := ag.RecordPause(wctx, offer.CallID, false)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	close(resumed)
	res := <-done
	call := endedCall(t, a.Store, res.Ref)

	var rec recording.Recording
	waitFor(t, 20*time.Second, "the recording finalised", func() bool {
		rec, err = a.Archive.ByLeg(ctx, call.ID, 1)
		return err == nil && rec.State == recording.StateFinalised
	})
	if err := a.Archive.Verify(ctx, rec.ID); err != nil {
		t.Errorf("archived recording does not verify: %v", err)
	}
	// The pause is in the metadata: one stretch, closed, by the agent, at least as long as the
	// dictation and the quiet second after it.
	if len(rec.Pauses) != 1 || rec.Pauses[0].To == nil {
		t.Fatalf("pauses %+v; want one closed pause", rec.Pauses)
	}
	p := rec.Pauses[0]
	if p.By == 0 || !slices.Contains(rec.Agents, p.By) || *p.To-p.From < 4000 {
		t.Errorf("pause %+v (agents %v); want by the agent, at least 4000 ms long", p, rec.Agents)
	}
	b, err := os.ReadFile(filepath.Join(a.Archive.Root(), rec.StoragePath))
	if err != nil {
		t.Fatal(err)
	}
	pcm := pcm16(b)
	// Nothing of the dictation; the conversation after the resume is there, after the pause.
	if hasTone(b, 600) {
		t.Error("the recording holds the 600 Hz dictated while paused")
	}
	at800 := firstTone(pcm, 800)
	if at800 < 0 {
		t.Fatal("the recording lacks the resident's 800 Hz after the resume")
	}
	if at800 < *p.To-500 {
		t.Errorf("the 800 Hz starts at %d ms in the file, before the pause ended (%d ms): the paused stretch was cut out", at800, *p.To)
	}
	// The paused stretch is silence of its own length where the metadata puts it (the file
	// starts a little after the row's start, so the silence may begin slightly earlier).
	gapAt, gapLen := silentRun(pcm, 64)
	if gapAt > p.From+200 || gapAt+gapLen < *p.To-500 || gapLen < *p.To-p.From-700 {
		t.Errorf("longest silence %d–%d ms in the file; want it to cover the pause %d–%d ms", gapAt, gapAt+gapLen, p.From, *p.To)
	}
	// The file is not shorter than the call by the pause: it still has the 3 s of 800 Hz after it.
	if rec.DurationMS < *p.To+3000 {
		t.Errorf("recording %d ms; want at least the pause end %d ms + 3000 ms of talk after it", rec.DurationMS, *p.To)
	}
	types := eventTypes(t, a.Store, call.ID)
	for _, want := range []string{"recording", "recording_paused", "recording_resumed"} {
		if !slices.Contains(types, want) {
			t.Errorf("event %s missing from %v", want, types)
		}
	}
	t.Logf("pause %d–%d ms (%d ms) by user %d; agent saw paused %s, resumed %s; file %d ms (%d bytes), silence %d–%d ms, 800 Hz from %d ms",
		p.From, *p.To, *p.To-p.From, p.By, pausedAt.Format(time.TimeOnly), resumedAt.Format(time.TimeOnly),
		rec.DurationMS, rec.Bytes, gapAt, gapAt+gapLen, at800)
}

// TestE2ERecordingNoneForAbandonedCall: a resident who hangs up in the queue before any agent
// takes the call leaves no recording.
func TestE2ERecordingNoneForAbandonedCall(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil)
	useShortMenu(t, a)
	ctx := context.Background()
	steps, err := resident.ParseScript("await roads, wait 3s, hangup")
	if err != nil {
		t.Fatal(err)
	}
	res, err := dialResident(t, cfg).Place(ctx, resident.Call{CallerID: "+48600100601", Steps: steps, Await: awaitNode(a.Store)})
	if err != nil {
		t.Fatal(err)
	}
	call := endedCall(t, a.Store, res.Ref)
	if call.Outcome != "abandoned" {
		t.Fatalf("outcome %s, want abandoned", call.Outcome)
	}
	types := eventTypes(t, a.Store, call.ID)
	if !slices.Contains(types, "queued") || slices.Contains(types, "agent_connected") || slices.Contains(types, "recording") {
		t.Errorf("events %v; want queued, and no agent or recording", types)
	}
	if _, err := a.Archive.ByLeg(ctx, call.ID, 1); !errors.Is(err, recording.ErrNotFound) {
		t.Errorf("recording of the abandoned call: %v, want none", err)
	}
	var n int
	if err := a.Store.DB().QueryRow(ctx, `SELECT count(*) FROM recordings WHERE call_id = $1`, string(call.ID)).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d recording rows for the abandoned call (%v), want 0", n, err)
	}
}

func isCode(err error, code protocol.Code) bool {
	var e *protocol.Error
	return errors.As(err, &e) && e.Code == code
}
