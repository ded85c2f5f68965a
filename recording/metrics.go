package recording

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StorageOptions set when the archive's disk counts as running low.
type StorageOptions struct {
	// MinFreeBytes: less free space than this is low. Zero means 5 GiB.
	MinFreeBytes uint64
	// MinFreeRatio: less than this fraction of the filesystem free is low. Zero means 0.10.
	MinFreeRatio float64
	// MinDaysLeft: filling up in fewer days than this, at the last week's net growth (recorded
	// minus purged), is low. Zero means 14.
	MinDaysLeft float64
	// WarnEvery repeats the warning while the disk stays low. Zero means 1 hour.
	WarnEvery time.Duration
}

// Storage measures the archive: what it holds (from the rows), the free space on its filesystem
// (statfs), and warns (log and kontakt_recordings_disk_low) before the disk fills.
type Storage struct {
	a   *Archive
	o   StorageOptions
	log *slog.Logger

	bytes, files, oldest, nextExpiry, nextPurge, free, size, low, daysLeft prometheus.Gauge

	mu       sync.Mutex
	lastWarn time.Time
	wasLow   bool
}

// growthWindow is the period over which the archive's net growth is measured.
const growthWindow = 7 * 24 * time.Hour

// NewStorage returns the storage metrics of an archive, registered with reg (nil: not registered).
func NewStorage(reg prometheus.Registerer, a *Archive, o StorageOptions) *Storage {
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 5 << 30
	}
	if o.MinFreeRatio == 0 {
		o.MinFreeRatio = 0.10
	}
	if o.MinDaysLeft == 0 {
		o.MinDaysLeft = 14
	}
	if o.WarnEvery == 0 {
		o.WarnEvery = time.Hour
	}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontakt_recordings_" + name, Help: help})
	}
	s := &Storage{a: a, o: o, log: a.log,
		bytes:      g("bytes", "Bytes of recording files kept in the archive (finalised and failed recordings with a file)."),
		files:      g("files", "Recording files kept in the archive."),
		oldest:     g("oldest_age_seconds", "Age of the oldest recording whose file is kept (0 when there is none)."),
		nextExpiry: g("next_expiry_timestamp_seconds", "When the next kept recording reaches its retention date (0 when there is none)."),
		nextPurge:  g("next_purge_timestamp_seconds", "When the scheduled purge runs next (0 when none is scheduled)."),
		free:       g("disk_free_bytes", "Bytes available to kontakt on the archive's filesystem."),
		size:       g("disk_size_bytes", "Size of the archive's filesystem."),
		low:        g("disk_low", "1 when the archive's filesystem is running low (free space or days left under the threshold)."),
		daysLeft:   g("disk_days_left", "Days until the archive's filesystem is full at the last week's net growth (+Inf when not growing)."),
	}
	if reg != nil {
		reg.MustRegister(s.bytes, s.files, s.oldest, s.nextExpiry, s.nextPurge, s.free, s.size, s.low, s.daysLeft)
	}
	return s
}

// SetNextPurge records when the scheduled purge runs next.
func (s *Storage) SetNextPurge(t time.Time) { s.nextPurge.Set(unixSeconds(t)) }

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// Refresh measures the archive now.
func (s *Storage) Refresh(ctx context.Context) error {
	now := s.a.o.Now()
	var files, bytes, recent int64
	var oldest, nextExpiry *time.Time
	err := s.a.db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE kept), coalesce(sum(bytes) FILTER (WHERE kept), 0),
			min(started_at) FILTER (WHERE kept), min(retention_until) FILTER (WHERE state <> 'purged'),
			coalesce(sum(bytes) FILTER (WHERE kept AND coalesce(finalised_at, ended_at) >= $1), 0)
		FROM (SELECT *, storage_path IS NOT NULL AND state IN ('finalised', 'failed') AS kept FROM recordings) r`,
		now.Add(-growthWindow)).Scan(&files, &bytes, &oldest, &nextExpiry, &recent)
	if err != nil {
		return err
	}
	var purged int64
	if err := s.a.db.QueryRow(ctx, `SELECT coalesce(sum(bytes), 0) FROM purge_evidence
		WHERE what = 'recording_file' AND at >= $1`, now.Add(-growthWindow)).Scan(&purged); err != nil {
		return err
	}
	s.files.Set(float64(files))
	s.bytes.Set(float64(bytes))
	s.oldest.Set(0)
	if oldest != nil {
		s.oldest.Set(max(now.Sub(*oldest).Seconds(), 0))
	}
	s.nextExpiry.Set(0)
	if nextExpiry != nil {
		s.nextExpiry.Set(unixSeconds(*nextExpiry))
	}

	free, size, err := diskSpace(s.a.o.Root)
	if err != nil {
		return err
	}
	s.free.Set(float64(free))
	s.size.Set(float64(size))
	days := math.Inf(1)
	if perDay := float64(recent-purged) / growthWindow.Hours() * 24; perDay > 0 {
		days = float64(free) / perDay
	}
	s.daysLeft.Set(days)

	var why []any
	if free < s.o.MinFreeBytes {
		why = append(why, "below_min_free_bytes", s.o.MinFreeBytes)
	}
	if size > 0 && float64(free)/float64(size) < s.o.MinFreeRatio {
		why = append(why, "below_min_free_ratio", s.o.MinFreeRatio)
	}
	if days < s.o.MinDaysLeft {
		why = append(why, "below_min_days_left", s.o.MinDaysLeft)
	}
	low := len(why) > 0
	s.low.Set(map[bool]float64{false: 0, true: 1}[low])
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case low && (!s.wasLow || now.Sub(s.lastWarn) >= s.o.WarnEvery):
		s.lastWarn = now
		s.log.Warn("recordings disk running low", append([]any{"dir", s.a.o.Root, "free_bytes", free,
			"size_bytes", size, "days_left", days}, why...)...)
	case !low && s.wasLow:
		s.log.Info("recordings disk no longer low", "dir", s.a.o.Root, "free_bytes", free)
	}
	s.wasLow = low
	return nil
}

// Run refreshes the metrics every interval until ctx ends.
func (s *Storage) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("recordings storage metrics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// diskSpace returns the bytes available to unprivileged users and the size of the filesystem
// holding dir (or its nearest existing parent, before the archive is first written).
func diskSpace(dir string) (free, size uint64, err error) {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return uint64(st.Bavail) * uint64(st.Bsize), uint64(st.Blocks) * uint64(st.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, os.ErrNotExist) || parent == dir {
			return 0, 0, err
		}
		dir = parent
	}
}
