package e2e

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kontakt/agentd/media/tone"
	"kontakt/internal/resident"
	"kontakt/internal/stack"
	"kontakt/internal/store"
)

// Callers waiting with no consultant free hear their place in the queue and the expected wait,
// in their language, between the music.
func TestE2EWaitingCallersHearTheirPosition(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	useShortMenu(t, a)
	cl := dialResident(t, cfg)
	var wg sync.WaitGroup
	refs := make([]string, 2)
	recs := make([]string, 2)
	since := time.Now()
	for i := range refs {
		if i == 1 {
			// The second caller dials once the first is queued, so it is behind the first.
			waitQueued(t, a.Store, "+48600100600", since)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			steps, _ := resident.ParseScript([]string{"await roads, wait 14s, hangup", "await roads, wait 6s, hangup"}[i])
			res, err := cl.Place(ctx, resident.Call{CallerID: "+4860010060" + string(rune('0'+i)), Steps: steps, Await: awaitNode(a.Store),
				Record: i == 0})
			if err != nil {
				t.Error(err)
			}
			refs[i], recs[i] = res.Ref, res.Recording
		}()
	}
	wg.Wait()
	for i, ref := range refs {
		c := endedCall(t, a.Store, ref)
		evs, _ := a.Store.CallEvents(ctx, c.ID)
		var pos []float64
		for _, e := range evs {
			if e.Type == "announced" {
				pos = append(pos, e.Data["position"].(float64))
			}
		}
		if len(pos) == 0 || pos[0] != float64(i+1) {
			t.Errorf("caller %d heard positions %v; want %d first", i+1, pos, i+1)
		}
		if c.Outcome != "abandoned" {
			t.Errorf("caller %d: outcome %s, want abandoned", i+1, c.Outcome)
		}
		if i == 0 {
			checkAnnouncementHeard(t, evs, recs[0])
		}
	}
}

// checkAnnouncementHeard checks, in what the first caller heard, that the announcement is there:
// while it plays the caller hears a voice and not the hold music, which returns after it.
func checkAnnouncementHeard(t *testing.T, evs []store.CallEvent, rec string) {
	t.Helper()
	var answered, start, end time.Time
	var playback string
	for _, e := range evs {
		switch {
		case e.Type == "answered" && answered.IsZero():
			answered = e.At
		case e.Type == "announced" && start.IsZero():
			start = e.At
		case e.Type == "prompt_started" && !start.IsZero() && playback == "":
			playback, _ = e.Data["playback"].(string)
		case e.Type == "prompt_finished" && playback != "" && e.Data["playback"] == playback && end.IsZero():
			end = e.At
		}
	}
	if answered.IsZero() || start.IsZero() || end.IsZero() {
		for _, e := range evs {
			t.Logf("%s %s %v", e.At.Format("15:04:05.000"), e.Type, e.Data)
		}
		t.Fatalf("no answered / announced / finished announcement among the events")
	}
	wav, err := os.ReadFile(filepath.Join(env.st.Asterisk.RecordingDir(), rec+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	pcm := pcm16(wav)
	// The recording starts when the resident's side answers, a few ms before Kontakt's answer.
	at := func(tm time.Time) int { return int(tm.Sub(answered).Seconds() * 8000) }
	music := func(from, to int) (withMusic, loud, windows int) {
		for i := max(from, 0); i+1600 <= min(to, len(pcm)); i += 800 {
			w := pcm[i : i+1600]
			windows++
			var e float64
			for _, v := range w {
				e += float64(v) * float64(v)
			}
			if e/1600 > 1e5 {
				loud++
			}
			for _, hz := range stack.HoldNotes {
				if tone.Strength(w, float64(hz)) > 0.2 {
					withMusic++
					break
				}
			}
		}
		return
	}
	m, loud, n := music(at(start)+4000, at(end)-4000) // inside the announcement, half a second in from each end
	t.Logf("announcement %.1f s: %d of %d windows loud, %d with hold music", end.Sub(start).Seconds(), loud, n, m)
	if n < 4 || loud*10 < n*6 || m*10 > n*2 {
		t.Errorf("during the announcement the caller heard %d/%d loud windows, %d/%d with hold music; want a voice, not the music", loud, n, m, n)
	}
	m, _, n = music(at(end)+4000, at(end)+20000) // the music again, from half a second after
	if n < 4 || m*10 < n*6 {
		t.Errorf("after the announcement %d/%d windows had hold music; want the music back", m, n)
	}
}
