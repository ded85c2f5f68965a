// Package recording keeps call recordings after Asterisk has made them: the metadata rows (one
// per call leg), the archive of files by date, pause marks, legal holds, the retention rule and
// the purge that applies it (deleting expired files and anonymising expired tickets, with
// evidence), the audited HTTP access to the audio, and storage metrics.
//
// The life of a recording, as the switchboard drives it:
//
//	rec, _ := archive.Begin(ctx, Meta{CallID: c, Agents: []int64{agent}, SpoolFile: path})  // agent connected, snoop recording started
//	archive.Pause(ctx, rec.ID, at, agent) / archive.Resume(ctx, rec.ID, at, agent)        // the caller dictates sensitive data
//	archive.Finalise(ctx, path, Meta{CallID: c, Leg: rec.Leg, EndedAt: end})                // RecordingFinished: moved, verified, row finalised
//	archive.Fail(ctx, Meta{CallID: c, Leg: rec.Leg}, "snoop channel could not be created")  // no file will come: an explicit failed row
//
// The retention rule (retention.go) is pure; everything else here does I/O (Postgres, files).
package recording
