package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestRewriter drives the renumbering with logical time.
func TestRewriter(t *testing.T) {
	var r rewriter
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type in struct {
		leg       uint64
		ssrc      uint32
		seq       uint16
		ts        uint32
		ms        int
		wantOK    bool
		wantDSeq  uint16 // output step from the previous accepted packet
		wantDTS   uint32
		wantMark  bool
		skipCheck bool
	}
	steps := []in{
		{leg: 1, ssrc: 7, seq: 100, ts: 5000, ms: 0, wantOK: true, wantMark: true, skipCheck: true},
		{leg: 1, ssrc: 7, seq: 101, ts: 5160, ms: 20, wantOK: true, wantDSeq: 1, wantDTS: 160},
		{leg: 1, ssrc: 7, seq: 101, ts: 5160, ms: 21, wantOK: false},                                                     // duplicate
		{leg: 1, ssrc: 7, seq: 99, ts: 4840, ms: 22, wantOK: false},                                                      // late
		{leg: 1, ssrc: 7, seq: 103, ts: 5480, ms: 60, wantOK: true, wantDSeq: 2, wantDTS: 320},                           // one lost: the gap stays
		{leg: 1, ssrc: 7, seq: 104, ts: 5640, ms: 75, wantOK: true, wantDSeq: 1, wantDTS: 160},                           // jitter: source clock kept
		{leg: 1, ssrc: 7, seq: 105, ts: 5800 + 8000, ms: 1080, wantOK: true, wantDSeq: 1, wantDTS: 8160},                 // source clock advanced over silence: kept
		{leg: 1, ssrc: 7, seq: 106, ts: 13960, ms: 2080, wantOK: true, wantDSeq: 1, wantDTS: 8000, wantMark: true},       // source clock stood still: wall clock
		{leg: 1, ssrc: 9, seq: 5, ts: 77, ms: 2100, wantOK: true, wantDSeq: 1, wantDTS: 160, wantMark: true},             // new SSRC, 20 ms later
		{leg: 2, ssrc: 9, seq: 6, ts: 237, ms: 2600, wantOK: true, wantDSeq: 1, wantDTS: 4000, wantMark: true},           // next call, 500 ms later
		{leg: 2, ssrc: 9, seq: 40000, ts: 1<<32 - 80, ms: 2620, wantOK: true, wantDSeq: 1, wantDTS: 160, wantMark: true}, // huge jump: new stream
		{leg: 2, ssrc: 9, seq: 40001, ts: 80, ms: 2640, wantOK: true, wantDSeq: 1, wantDTS: 160},                         // timestamp wrap-around
	}
	var lastSeq uint16
	var lastTS uint32
	for i, s := range steps {
		h := rtp.Header{SSRC: s.ssrc, SequenceNumber: s.seq, Timestamp: s.ts}
		ok := r.rewrite(&h, s.leg, 160, at(s.ms))
		if ok != s.wantOK {
			t.Fatalf("step %d: ok=%v", i, ok)
		}
		if !ok {
			continue
		}
		if !s.skipCheck {
			if d := h.SequenceNumber - lastSeq; d != s.wantDSeq {
				t.Errorf("step %d: seq step %d, want %d", i, d, s.wantDSeq)
			}
			if d := h.Timestamp - lastTS; d != s.wantDTS {
				t.Errorf("step %d: ts step %d, want %d", i, d, s.wantDTS)
			}
		}
		if h.Marker != s.wantMark {
			t.Errorf("step %d: marker %v", i, h.Marker)
		}
		lastSeq, lastTS = h.SequenceNumber, h.Timestamp
	}
}

func BenchmarkRewrite(b *testing.B) {
	var r rewriter
	h := rtp.Header{SSRC: 1}
	now := time.Now()
	for b.Loop() {
		h.SequenceNumber++
		h.Timestamp += 160
		now = now.Add(20 * time.Millisecond)
		r.rewrite(&h, 1, 160, now)
	}
}
