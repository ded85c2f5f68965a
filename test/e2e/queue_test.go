package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"kontakt/internal/resident"
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
	since := time.Now()
	for i := range refs {
		if i == 1 {
			// The second caller dials once the first is queued, so it is behind the first.
			waitFor(t, 20*time.Second, "the first caller queued", func() bool {
				var n int
				a.Store.DB().QueryRow(ctx, `SELECT count(*) FROM calls c JOIN call_events e ON e.call_id = c.id
					WHERE c.caller = '+48600100600' AND c.started_at >= $1 AND e.type = 'queued'`, since).Scan(&n)
				return n > 0
			})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			steps, _ := resident.ParseScript([]string{"await roads, wait 9s, hangup", "await roads, wait 6s, hangup"}[i])
			res, err := cl.Place(ctx, resident.Call{CallerID: "+4860010060" + string(rune('0'+i)), Steps: steps, Await: awaitNode(a.Store)})
			if err != nil {
				t.Error(err)
			}
			refs[i] = res.Ref
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
	}
}
