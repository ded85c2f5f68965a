package e2e

import (
	"context"
	"sync"
	"testing"

	"kontakt/internal/resident"
)

// Callers waiting with no consultant free hear their place in the queue and the expected wait,
// in their language, between the music.
func TestE2EWaitingCallersHearTheirPosition(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	before, ok := a.Menus.Current("19115")
	if !ok {
		t.Fatal("no published menu")
	}
	v, probs, err := a.Menus.SaveDraft(ctx, []byte(shortMenu), "test")
	if err != nil || len(probs) > 0 {
		t.Fatalf("menu: %v %v", err, probs)
	}
	if _, err := a.Menus.Publish(ctx, "19115", v.Version, "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := a.Menus.Rollback(context.Background(), "19115", before.Version, "test"); err != nil {
			t.Errorf("restoring the menu: %v", err)
		}
	})
	cl := dialResident(t, cfg)
	var wg sync.WaitGroup
	refs := make([]string, 2)
	for i := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The second caller arrives a little later, so it is behind the first.
			steps, _ := resident.ParseScript([]string{"await roads, wait 8s, hangup", "wait 1s, await roads, wait 7s, hangup"}[i])
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
