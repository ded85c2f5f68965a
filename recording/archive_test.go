package recording

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kontakt/internal/auth"
)

func TestFinaliseMovesAndVerifies(t *testing.T) {
	f := newFixture(t)
	// 2026-03-31T23:30Z is already 1 April in Warsaw: the archive's calendar is Warsaw's.
	registered := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	call, tk := f.call(registered, "+48600100200")
	spool := sox(t, filepath.Join(f.spool, "snoop-1.wav"), 2)
	want := fileSHA(t, spool)
	agent := f.users["konsultant"]

	rec, err := f.a.Begin(f.ctx, Meta{CallID: call, Agents: []int64{agent}, StartedAt: registered.Add(time.Minute), SpoolFile: spool})
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != StateRecording || rec.Leg != 1 || rec.TicketID != tk.ID || rec.SpoolPath != spool {
		t.Fatalf("after Begin: %+v", rec)
	}
	if wantRU := RetentionUntil(tk.CreatedAt, DefaultPolicy()); !rec.RetentionUntil.Equal(wantRU) {
		t.Errorf("retention_until %s, want %s", rec.RetentionUntil, wantRU)
	}
	if got := rec.RetentionUntil.In(waw).Format(time.RFC3339); got != "2026-11-01T00:00:00+01:00" {
		t.Errorf("an April registration is kept through October: retention_until %s", got)
	}
	start := rec.StartedAt
	if err := f.a.Pause(f.ctx, rec.ID, start.Add(500*time.Millisecond), agent); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Resume(f.ctx, rec.ID, start.Add(1200*time.Millisecond), agent); err != nil {
		t.Fatal(err)
	}

	out, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: 1, EndedAt: start.Add(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	wantPath := "2026/04/01/" + string(call) + "-1.wav"
	if out.State != StateFinalised || out.StoragePath != wantPath || out.SHA256 != want || out.Bytes != 32044 ||
		out.DurationMS != 2000 || out.Format != "wav" || out.Codec != "pcm_s16le" || out.SampleRate != 8000 ||
		out.Channels != 1 || out.FinalisedAt == nil || out.EndedAt == nil {
		t.Fatalf("finalised row: %+v", out)
	}
	if len(out.Pauses) != 1 || out.Pauses[0].From != 500 || out.Pauses[0].To == nil || *out.Pauses[0].To != 1200 || out.Pauses[0].By != agent {
		t.Errorf("pauses %+v", out.Pauses)
	}
	if exists(spool) {
		t.Error("the spool file is still there")
	}
	if got := fileSHA(t, f.archived(out)); got != want {
		t.Errorf("archived file sha256 %s, want %s", got, want)
	}
	if err := f.a.Verify(f.ctx, out.ID); err != nil {
		t.Error(err)
	}
	// Idempotent: a second Finalise (a retried event) changes nothing.
	again, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: 1})
	if err != nil || again.ID != out.ID || again.SHA256 != want || again.State != StateFinalised {
		t.Fatalf("second Finalise: %+v, %v", again, err)
	}
	if !exists(filepath.Join(f.root, markerName)) {
		t.Error("the archive has no marker file")
	}
}

func TestFinaliseAcrossFilesystems(t *testing.T) {
	t.Run("forced copy", func(t *testing.T) {
		f := newFixture(t)
		linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }
		t.Cleanup(func() { linkFile = os.Link })
		rec := f.finalised(at("2026-05-04 09:00"), 1)
		checkArchived(t, f, rec)
	})
	t.Run("real filesystems", func(t *testing.T) {
		// /dev/shm is a tmpfs: a spool there and the archive under the test's temporary directory
		// are on two filesystems, so link fails with EXDEV and the file is copied.
		var a, b syscall.Stat_t
		if syscall.Stat("/dev/shm", &a) != nil || syscall.Stat(os.TempDir(), &b) != nil || a.Dev == b.Dev {
			t.Skip("no second filesystem (/dev/shm) here")
		}
		f := newFixture(t)
		dir, err := os.MkdirTemp("/dev/shm", "kontakt-spool-")
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		f.spool = dir
		rec := f.finalised(at("2026-05-04 09:00"), 1)
		checkArchived(t, f, rec)
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spool not emptied: %v", left)
		}
	})
}

func checkArchived(t *testing.T, f *fixture, rec Recording) {
	t.Helper()
	if got := fileSHA(t, f.archived(rec)); got != rec.SHA256 || rec.Bytes != 16044 || rec.DurationMS != 1000 {
		t.Errorf("archived %s: sha %s, row %+v", rec.StoragePath, got, rec)
	}
	entries, _ := os.ReadDir(filepath.Dir(f.archived(rec)))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("partial copy left: %s", e.Name())
		}
	}
}

func TestFinaliseDetectsACorruptedCopy(t *testing.T) {
	f := newFixture(t)
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }
	afterCopy = func(path string) {
		b, _ := os.ReadFile(path)
		b[len(b)/2] ^= 0x01 // one bit flipped on the way
		os.WriteFile(path, b, 0o640)
	}
	t.Cleanup(func() { linkFile, afterCopy = os.Link, nil })
	call, _ := f.call(at("2026-05-04 09:00"), "+48600100200")
	spool := sox(t, filepath.Join(f.spool, "c.wav"), 1)
	want := fileSHA(t, spool)

	rec, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: 1, StartedAt: at("2026-05-04 09:01")})
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("Finalise of a corrupted copy: %v", err)
	}
	rec = f.get(rec.ID)
	if rec.State != StateFailed || !strings.Contains(rec.FailureReason, "checksum mismatch") || !strings.Contains(rec.FailureReason, want) {
		t.Fatalf("row after a corrupted copy: %+v", rec)
	}
	if !exists(spool) || fileSHA(t, spool) != want {
		t.Fatal("the intact spool file must be kept")
	}
	if exists(filepath.Join(f.root, f.a.archivePath(rec))) {
		t.Fatal("the corrupted copy is still in the archive")
	}
	// The disk is fixed; Finalise again recovers the failed leg.
	afterCopy = nil
	rec, err = f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: 1})
	if err != nil || rec.State != StateFinalised || rec.SHA256 != want || rec.FailureReason != "" {
		t.Fatalf("second Finalise: %+v, %v", rec, err)
	}
}

func TestVerifyDetectsCorruptionInTheArchive(t *testing.T) {
	f := newFixture(t)
	rec := f.finalised(at("2026-05-04 09:00"), 1)
	p := f.archived(rec)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 0x80
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Verify(f.ctx, rec.ID); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("Verify of a corrupted file: %v", err)
	}
}

func TestFinaliseWithoutAFileIsAnExplicitFailure(t *testing.T) {
	f := newFixture(t)
	call, _ := f.call(at("2026-05-04 09:00"), "+48600100200")
	rec, err := f.a.Begin(f.ctx, Meta{CallID: call, Agents: []int64{f.users["konsultant"]}})
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(f.spool, "never-written.wav")
	out, err := f.a.Finalise(f.ctx, missing, Meta{CallID: call, Leg: rec.Leg, Abnormal: "the caller's channel was lost"})
	if !errors.Is(err, ErrRecordingFailed) {
		t.Fatalf("Finalise without a file: %v", err)
	}
	if out.State != StateFailed || !strings.Contains(out.FailureReason, missing) ||
		!strings.Contains(out.FailureReason, "the caller's channel was lost") || out.EndedAt == nil {
		t.Fatalf("row: %+v", out)
	}
}

func TestFinaliseKeepsAFileThatIsNotAWAVUnderAFailedRow(t *testing.T) {
	f := newFixture(t)
	call, _ := f.call(at("2026-05-04 09:00"), "+48600100200")
	spool := filepath.Join(f.spool, "garbage.wav")
	garbage := []byte("this is not audio, but it might still hold a voice")
	if err := os.WriteFile(spool, garbage, 0o640); err != nil {
		t.Fatal(err)
	}
	want := fileSHA(t, spool)
	out, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: 1})
	if !errors.Is(err, ErrRecordingFailed) {
		t.Fatalf("Finalise of garbage: %v", err)
	}
	if out.State != StateFailed || !strings.Contains(out.FailureReason, "not a playable recording") ||
		out.StoragePath == "" || out.SHA256 != want || out.Bytes != int64(len(garbage)) {
		t.Fatalf("row: %+v", out)
	}
	if fileSHA(t, f.archived(out)) != want || exists(spool) {
		t.Fatal("the file must be archived (the purge must find it) and the spool emptied")
	}
}

func TestFinaliseAcceptsAnUnterminatedHeader(t *testing.T) {
	f := newFixture(t)
	call, _ := f.call(at("2026-05-04 09:00"), "+48600100200")
	spool := sox(t, filepath.Join(f.spool, "crash.wav"), 2)
	b, _ := os.ReadFile(spool)
	copy(b[4:8], []byte{0, 0, 0, 0})   // RIFF size never written
	copy(b[40:44], []byte{0, 0, 0, 0}) // data size never written
	os.WriteFile(spool, b, 0o640)
	out, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: 1, Abnormal: "Asterisk restarted"})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != StateFinalised || out.DurationMS != 2000 || !strings.Contains(out.Note, "header was incomplete") ||
		!strings.Contains(out.Note, "Asterisk restarted") {
		t.Fatalf("row: %+v", out)
	}
}

func TestFinaliseRecoversFromACrashBetweenItsSteps(t *testing.T) {
	f := newFixture(t)
	call, _ := f.call(at("2026-05-04 09:00"), "+48600100200")
	rec, err := f.a.Begin(f.ctx, Meta{CallID: call, StartedAt: at("2026-05-04 09:01")})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(f.root, f.a.archivePath(rec))
	os.MkdirAll(filepath.Dir(dst), 0o750)

	// Crashed after placing the file, before removing the spool file: both hold the same bytes.
	spool := sox(t, filepath.Join(f.spool, "a.wav"), 1)
	b, _ := os.ReadFile(spool)
	os.WriteFile(dst, b, 0o640)
	out, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: rec.Leg})
	if err != nil || out.State != StateFinalised || exists(spool) {
		t.Fatalf("recovery with both files: %+v, %v (spool left: %v)", out, err, exists(spool))
	}

	// Crashed after removing the spool file, before writing the row.
	rec2, _ := f.a.Begin(f.ctx, Meta{CallID: call, StartedAt: at("2026-05-04 09:05")})
	dst2 := filepath.Join(f.root, f.a.archivePath(rec2))
	os.WriteFile(dst2, b, 0o640)
	out, err = f.a.Finalise(f.ctx, filepath.Join(f.spool, "gone.wav"), Meta{CallID: call, Leg: rec2.Leg})
	if err != nil || out.State != StateFinalised || out.StoragePath != f.a.archivePath(rec2) {
		t.Fatalf("recovery from the archive copy: %+v, %v", out, err)
	}

	// A different file already at the destination is never overwritten.
	rec3, _ := f.a.Begin(f.ctx, Meta{CallID: call, StartedAt: at("2026-05-04 09:10")})
	dst3 := filepath.Join(f.root, f.a.archivePath(rec3))
	os.WriteFile(dst3, []byte("another file"), 0o640)
	spool3 := sox(t, filepath.Join(f.spool, "c.wav"), 1)
	if _, err := f.a.Finalise(f.ctx, spool3, Meta{CallID: call, Leg: rec3.Leg}); err == nil {
		t.Fatal("Finalise replaced a different file in the archive")
	}
	if got, _ := os.ReadFile(dst3); string(got) != "another file" || !exists(spool3) {
		t.Fatal("both files must be left as they were")
	}
}

func TestLegsBeginAndFail(t *testing.T) {
	f := newFixture(t)
	call, tk := f.call(at("2026-05-04 09:00"), "+48600100200")
	first, err := f.a.Begin(f.ctx, Meta{CallID: call, Agents: []int64{f.users["konsultant"]}})
	if err != nil {
		t.Fatal(err)
	}
	// Escalated to a broker: a second leg, the same ticket.
	second, err := f.a.Begin(f.ctx, Meta{CallID: call, Agents: []int64{f.users["konsultant"], f.users["broker"]}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Leg != 1 || second.Leg != 2 || second.TicketID != tk.ID || len(second.Agents) != 2 {
		t.Fatalf("legs: %+v %+v", first, second)
	}
	again, err := f.a.Begin(f.ctx, Meta{CallID: call, Leg: 1})
	if err != nil || again.ID != first.ID {
		t.Fatalf("Begin of an existing leg: %+v, %v", again, err)
	}
	// The snoop channel of a third leg could not be created: an explicit failed row.
	failed, err := f.a.Fail(f.ctx, Meta{CallID: call}, "snoop channel could not be created")
	if err != nil || failed.Leg != 3 || failed.State != StateFailed || failed.FailureReason != "snoop channel could not be created" {
		t.Fatalf("Fail: %+v, %v", failed, err)
	}
	// The first leg's call ended abnormally and no file will come.
	failed, err = f.a.Fail(f.ctx, Meta{CallID: call, Leg: 1, Abnormal: "Asterisk went away"}, "recording lost")
	if err != nil || failed.ID != first.ID || failed.State != StateFailed || !strings.Contains(failed.FailureReason, "Asterisk went away") {
		t.Fatalf("Fail of leg 1: %+v, %v", failed, err)
	}
	var inv *InvalidError
	if _, err := f.a.Begin(f.ctx, Meta{CallID: "00000000-0000-4000-8000-00000000dead"}); !errors.As(err, &inv) || inv.Field != "call_id" {
		t.Fatalf("Begin of an unknown call: %v", err)
	}
	unfinished, err := f.a.Unfinished(f.ctx, f.now.Add(time.Hour))
	if err != nil || len(unfinished) != 1 || unfinished[0].ID != second.ID {
		t.Fatalf("Unfinished: %v, %v", unfinished, err)
	}
}

func TestPauseAndResumeMarks(t *testing.T) {
	f := newFixture(t)
	call, _ := f.call(at("2026-05-04 09:00"), "+48600100200")
	start := at("2026-05-04 09:01")
	rec, _ := f.a.Begin(f.ctx, Meta{CallID: call, StartedAt: start})
	agent := f.users["konsultant"]
	if err := f.a.Resume(f.ctx, rec.ID, start, agent); !errors.Is(err, ErrNotPaused) {
		t.Fatalf("Resume while not paused: %v", err)
	}
	if err := f.a.Pause(f.ctx, rec.ID, start.Add(3*time.Second), agent); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Pause(f.ctx, rec.ID, start.Add(4*time.Second), agent); !errors.Is(err, ErrAlreadyPaused) {
		t.Fatalf("Pause while paused: %v", err)
	}
	if err := f.a.Resume(f.ctx, rec.ID, start.Add(9*time.Second), agent); err != nil {
		t.Fatal(err)
	}
	// The recording ends paused: Finalise closes the pause at the end of the audio.
	if err := f.a.Pause(f.ctx, rec.ID, start.Add(1500*time.Millisecond+9*time.Second), agent); err != nil {
		t.Fatal(err)
	}
	spool := sox(t, filepath.Join(f.spool, "p.wav"), 12)
	out, err := f.a.Finalise(f.ctx, spool, Meta{CallID: call, Leg: rec.Leg})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Pauses) != 2 || *out.Pauses[0].To != 9000 || out.Pauses[1].From != 10500 || *out.Pauses[1].To != 12000 ||
		!strings.Contains(out.Note, "ended while paused") {
		t.Fatalf("pauses %+v, note %q", out.Pauses, out.Note)
	}
	if err := f.a.Pause(f.ctx, rec.ID, start.Add(time.Minute), agent); !errors.Is(err, ErrNotRecording) {
		t.Fatalf("Pause of a finalised recording: %v", err)
	}
}

func TestLegalHold(t *testing.T) {
	f := newFixture(t)
	rec := f.finalised(at("2026-05-04 09:00"), 1)
	until := at("2027-01-31 00:00")
	if _, err := f.a.SetHold(f.ctx, f.principal("konsultant"), rec.ID, "complaint", until); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a consultant set a hold: %v", err)
	}
	var inv *InvalidError
	if _, err := f.a.SetHold(f.ctx, f.principal("superwizor"), rec.ID, "  ", until); !errors.As(err, &inv) || inv.Field != "reason" {
		t.Fatalf("hold without a reason: %v", err)
	}
	if _, err := f.a.SetHold(f.ctx, f.principal("superwizor"), rec.ID, "complaint", f.now.Add(-time.Hour)); !errors.As(err, &inv) || inv.Field != "until" {
		t.Fatalf("hold until the past: %v", err)
	}
	held, err := f.a.SetHold(f.ctx, f.principal("superwizor"), rec.ID, "complaint 2026/000123", until)
	if err != nil {
		t.Fatal(err)
	}
	if held.Hold == nil || held.Hold.By != f.users["superwizor"] || !held.Hold.Until.Equal(until) || held.Hold.Reason != "complaint 2026/000123" {
		t.Fatalf("hold %+v", held.Hold)
	}
	cleared, err := f.a.ClearHold(f.ctx, f.principal("admin"), rec.ID, "complaint closed")
	if err != nil || cleared.Hold != nil {
		t.Fatalf("ClearHold: %+v, %v", cleared.Hold, err)
	}
	if n := f.count(`SELECT count(*) FROM recording_hold_log WHERE recording_id = $1`, int64(rec.ID)); n != 2 {
		t.Errorf("hold log has %d rows, want 2 (set, clear)", n)
	}
	if _, err := f.a.ClearHold(f.ctx, auth.Principal{UserID: f.users["broker"], Roles: []auth.Role{auth.RoleBroker}}, rec.ID, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a broker cleared a hold: %v", err)
	}
}

func TestAuditTablesAreAppendOnly(t *testing.T) {
	f := newFixture(t)
	rec := f.finalised(at("2026-05-04 09:00"), 1)
	if _, err := f.a.LogAccess(f.ctx, AccessEntry{RecordingID: rec.ID, UserID: f.users["superwizor"], Purpose: PurposeQuality, Action: ActionListen}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.SetHold(f.ctx, f.principal("superwizor"), rec.ID, "complaint", at("2027-01-01 00:00")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tx.Exec(f.ctx, `INSERT INTO purge_evidence (what, subject, why, by_actor) VALUES ('recording_file', 'x', 'test', 'test')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE recording_access_log SET purpose = 'training'`,
		`DELETE FROM recording_access_log`,
		`UPDATE recording_hold_log SET reason = 'nothing'`,
		`DELETE FROM recording_hold_log`,
		`UPDATE purge_evidence SET why = 'nothing'`,
		`DELETE FROM purge_evidence`,
	} {
		sp, err := f.tx.Begin(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sp.Exec(f.ctx, q)
		sp.Rollback(f.ctx)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestEnumsRoundTrip(t *testing.T) {
	for _, s := range States {
		if got, err := ParseState(string(s)); err != nil || got != s {
			t.Errorf("state %s: %v %v", s, got, err)
		}
	}
	for _, p := range Purposes {
		if got, err := ParsePurpose(string(p)); err != nil || got != p {
			t.Errorf("purpose %s: %v %v", p, got, err)
		}
	}
	for _, a := range Actions {
		if got, err := ParseAction(string(a)); err != nil || got != a {
			t.Errorf("action %s: %v %v", a, got, err)
		}
	}
	if _, err := ParsePurpose(""); err == nil {
		t.Error("the empty purpose parsed")
	}
	if StateUnknown.String() != "unknown" || PurposeUnknown.String() != "unknown" || ActionUnknown.String() != "unknown" {
		t.Error("the zero values must say unknown")
	}
}
