package recording

import (
	"context"
	"time"
)

// NextDaily returns the first instant after t when the wall clock in zone shows hour:minute. On
// the day a DST change skips that time, the run is at the same offset past the change (02:30 on
// the last Sunday of March in Warsaw becomes 03:30), so a run is never lost.
func NextDaily(t time.Time, hour, minute int, zone *time.Location) time.Time {
	l := t.In(zone)
	y, m, d := l.Date()
	next := time.Date(y, m, d, hour, minute, 0, 0, zone)
	for !next.After(t) {
		d++
		next = time.Date(y, m, d, hour, minute, 0, 0, zone)
	}
	return next
}

// RunDaily runs the purge every day at hour:minute in the policy's zone until ctx ends; serve
// starts it. Each run's report is logged; a failed run is logged and tried again the next day.
// storage (may be nil) gets the next run's time.
func (a *Archive) RunDaily(ctx context.Context, hour, minute int, storage *Storage) {
	runDaily(ctx, a.o.Now, func(t time.Time) time.Time { return NextDaily(t, hour, minute, a.o.Policy.Zone) },
		func(next time.Time) {
			if storage != nil {
				storage.SetNextPurge(next)
			}
		},
		func(now time.Time) {
			if _, err := a.Purge(ctx, now, false); err != nil && ctx.Err() == nil {
				a.log.Error("scheduled purge", "err", err)
			}
		})
}

// runDaily is RunDaily's loop with its clock and actions as parameters (tests run it in a
// synctest bubble).
func runDaily(ctx context.Context, now func() time.Time, next func(time.Time) time.Time, scheduled func(time.Time), run func(time.Time)) {
	for {
		at := next(now())
		scheduled(at)
		t := time.NewTimer(at.Sub(now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		run(now())
	}
}
