package recording

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// exposition returns the text exposition of the named metrics in reg.
func exposition(t *testing.T, reg *prometheus.Registry, names ...string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var b strings.Builder
	for _, mf := range mfs {
		if want[mf.GetName()] {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

func TestStorageMetrics(t *testing.T) {
	f := newFixture(t)
	f.now = at("2026-05-04 10:00")
	old := f.finalised(at("2026-05-01 10:00"), 1)
	f.finalised(at("2026-05-04 09:00"), 2)
	f.finalised(at("2025-09-10 09:00"), 1) // purged below
	if _, err := f.a.Purge(f.ctx, f.now, false); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := NewStorage(reg, f.a, StorageOptions{})
	s.SetNextPurge(at("2026-05-05 04:15"))
	if err := s.Refresh(f.ctx); err != nil {
		t.Fatal(err)
	}
	got := exposition(t, reg, "kontakt_recordings_bytes", "kontakt_recordings_files", "kontakt_recordings_oldest_age_seconds",
		"kontakt_recordings_next_expiry_timestamp_seconds", "kontakt_recordings_next_purge_timestamp_seconds")
	want := `# HELP kontakt_recordings_bytes Bytes of recording files kept in the archive (finalised and failed recordings with a file).
# TYPE kontakt_recordings_bytes gauge
kontakt_recordings_bytes 48088
# HELP kontakt_recordings_files Recording files kept in the archive.
# TYPE kontakt_recordings_files gauge
kontakt_recordings_files 2
# HELP kontakt_recordings_next_expiry_timestamp_seconds When the next kept recording reaches its retention date (0 when there is none).
# TYPE kontakt_recordings_next_expiry_timestamp_seconds gauge
kontakt_recordings_next_expiry_timestamp_seconds 1.7960796e+09
# HELP kontakt_recordings_next_purge_timestamp_seconds When the scheduled purge runs next (0 when none is scheduled).
# TYPE kontakt_recordings_next_purge_timestamp_seconds gauge
kontakt_recordings_next_purge_timestamp_seconds 1.7779473e+09
# HELP kontakt_recordings_oldest_age_seconds Age of the oldest recording whose file is kept (0 when there is none).
# TYPE kontakt_recordings_oldest_age_seconds gauge
kontakt_recordings_oldest_age_seconds 259200
`
	if got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	// 1.7960796e+09 is 2026-12-01 00:00 in Warsaw, the retention date of May recordings; the
	// next purge is 2026-05-05 04:15 CEST.
	if at("2026-12-01 00:00").Unix() != 1796079600 || !old.RetentionUntil.Equal(at("2026-12-01 00:00")) ||
		at("2026-05-05 04:15").Unix() != 1777947300 {
		t.Errorf("retention %s", old.RetentionUntil)
	}
	var free, size, low, days float64
	for _, mf := range must(reg.Gather()) {
		v := mf.GetMetric()[0].GetGauge().GetValue()
		switch mf.GetName() {
		case "kontakt_recordings_disk_free_bytes":
			free = v
		case "kontakt_recordings_disk_size_bytes":
			size = v
		case "kontakt_recordings_disk_low":
			low = v
		case "kontakt_recordings_disk_days_left":
			days = v
		}
	}
	if free <= 0 || size < free {
		t.Errorf("disk free %v of %v", free, size)
	}
	// The last week added 48088 bytes and purged 16044: the disk fills at 32044 bytes a week.
	if want := free / (32044.0 / 7); days < want*0.999 || days > want*1.001 {
		t.Errorf("days left %v, want %v", days, want)
	}
	if low != 0 || strings.Contains(f.logBuf.String(), "disk running low") {
		t.Logf("the test machine's disk is low already (free %v of %v)", free, size)
	}

	// The disk is low (the threshold above what any disk has): a warning and the metric, once
	// per WarnEvery; then it recovers.
	s.o.MinFreeBytes = 1 << 62
	f.logBuf.Reset()
	s.Refresh(f.ctx)
	s.Refresh(f.ctx)
	if n := strings.Count(f.logBuf.String(), "recordings disk running low"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, f.logBuf)
	}
	if !strings.Contains(f.logBuf.String(), "below_min_free_bytes") {
		t.Errorf("the warning does not say why: %s", f.logBuf)
	}
	if v := exposition(t, reg, "kontakt_recordings_disk_low"); !strings.Contains(v, "kontakt_recordings_disk_low 1") {
		t.Errorf("disk_low: %s", v)
	}
	f.now = f.now.Add(time.Hour)
	s.Refresh(f.ctx)
	if n := strings.Count(f.logBuf.String(), "recordings disk running low"); n != 2 {
		t.Errorf("%d warnings after WarnEvery, want 2", n)
	}
	s.o.MinFreeBytes, s.o.MinFreeRatio, s.o.MinDaysLeft = 1, 1e-9, 1e-9
	s.Refresh(f.ctx)
	if !strings.Contains(f.logBuf.String(), "no longer low") || !strings.Contains(exposition(t, reg, "kontakt_recordings_disk_low"), "kontakt_recordings_disk_low 0") {
		t.Errorf("recovery not reported:\n%s", f.logBuf)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestNextDaily(t *testing.T) {
	for _, tc := range []struct{ after, want string }{
		{"2026-05-04 03:00", "2026-05-04 04:15"},
		{"2026-05-04 04:15", "2026-05-05 04:15"},
		{"2026-05-04 23:59", "2026-05-05 04:15"},
		{"2026-03-28 05:00", "2026-03-29 04:15"}, // the night the clocks go forward
		{"2026-10-24 05:00", "2026-10-25 04:15"}, // and back
		{"2026-12-31 12:00", "2027-01-01 04:15"},
	} {
		if got := NextDaily(at(tc.after), 4, 15, waw); !got.Equal(at(tc.want)) {
			t.Errorf("after %s: %s, want %s", tc.after, got.In(waw), tc.want)
		}
	}
	// 02:30 does not exist on 29 March 2026 in Warsaw: the run is at 03:30 CEST.
	if got := NextDaily(at("2026-03-28 05:00"), 2, 30, waw); got.In(waw).Format("2006-01-02 15:04 MST") != "2026-03-29 03:30 CEST" {
		t.Errorf("in the DST gap: %s", got.In(waw))
	}
}

func TestRunDailyRunsAtTheScheduledTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var runs, scheduled []time.Time
		done := make(chan struct{})
		go func() {
			runDaily(ctx, time.Now, func(t time.Time) time.Time { return NextDaily(t, 4, 15, waw) },
				func(next time.Time) { scheduled = append(scheduled, next) },
				func(now time.Time) { runs = append(runs, now) })
			close(done)
		}()
		time.Sleep(3*24*time.Hour + time.Minute)
		synctest.Wait()
		cancel()
		<-done
		if len(runs) != 3 || len(scheduled) != 4 {
			t.Fatalf("%d runs, %d scheduled", len(runs), len(scheduled))
		}
		for i, r := range runs {
			if l := r.In(waw); l.Hour() != 4 || l.Minute() != 15 || !r.Equal(scheduled[i]) {
				t.Errorf("run %d at %s, scheduled %s", i, l, scheduled[i].In(waw))
			}
		}
	})
}
