package switchboard

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Event types of newer Asterisk versions that ari/v5 v5.3.1 does not know: decoding must keep
// them as opaque events instead of failing (or, as the library's own bus does, panicking).
func TestUnknownEventTypesAreOpaque(t *testing.T) {
	for _, typ := range []string{"ChannelToneDetected", "CallBroadcast", "CallClaimed", "ChannelTransfer",
		"ApplicationRegistered", "ApplicationUnregistered", "RESTResponse", "SomethingNew"} {
		raw := fmt.Sprintf(`{"type":%q,"application":"kontakt","channel":{"id":"c-1","name":"PJSIP/x"}}`, typ)
		ev, err := decodeEvent([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if ev.ARI != nil || ev.Type != typ {
			t.Fatalf("%s: want opaque, got %+v", typ, ev)
		}
		if k := ev.keys(); len(k) != 1 || k[0] != "channel:c-1" {
			t.Fatalf("%s: keys %v", typ, k)
		}
	}
}

func TestKnownEventsDecodeAndRoute(t *testing.T) {
	ev, err := decodeEvent([]byte(`{"type":"PlaybackFinished","application":"kontakt","playback":{"id":"kontakt-p-1","target_uri":"channel:c-9","state":"done"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.ARI.(*ari.PlaybackFinished); !ok {
		t.Fatalf("decoded %T", ev.ARI)
	}
	keys := strings.Join(ev.keys(), " ")
	if !strings.Contains(keys, "playback:kontakt-p-1") || !strings.Contains(keys, "channel:c-9") {
		t.Fatalf("keys %s", keys)
	}
}

func TestMalformedEventsAreErrors(t *testing.T) {
	for _, raw := range []string{``, `{`, `[]`, `{"type":""}`, `{"application":"kontakt"}`, `"StasisStart"`} {
		if _, err := decodeEvent([]byte(raw)); err == nil {
			t.Errorf("%q: want an error", raw)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"type":"StasisStart","channel":{"id":"a"},"args":[]}`))
	f.Add([]byte(`{"type":"ChannelToneDetected","channel":{"id":"a"}}`))
	f.Add([]byte(`{"type":"ChannelDtmfReceived","digit":"5","channel":{"id":"a"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(b)
		if err == nil {
			if ev.Type == "" {
				t.Fatal("an event without a type was accepted")
			}
			ev.keys()
		}
	})
}

func TestMailboxKeepsOrderAndNeverBlocks(t *testing.T) {
	m := newMailbox[int]()
	const n = 100000 // far beyond the 100 events after which the library's bus drops
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			m.put(i)
		}
	}()
	wg.Wait() // the producer finished without any consumer: put never blocks
	next := 0
	for next < n {
		select {
		case <-m.ready():
		case <-time.After(time.Second):
			t.Fatalf("no signal with %d items queued", m.len())
		}
		for _, v := range m.take() {
			if v != next {
				t.Fatalf("got %d, want %d", v, next)
			}
			next++
		}
	}
	m.close()
	m.put(1)
	if m.len() != 0 {
		t.Fatal("put after close was kept")
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	prev := time.Duration(0)
	for i := 0; i < 20; i++ {
		d := b.next()
		if d < 80*time.Millisecond || d > 2*time.Second+2*time.Second/4 {
			t.Fatalf("step %d: %s out of bounds", i, d)
		}
		if i < 4 && d < prev/2 {
			t.Fatalf("step %d: %s shrank from %s", i, d, prev)
		}
		prev = d
	}
	b.reset()
	if d := b.next(); d > 150*time.Millisecond {
		t.Fatalf("after reset: %s", d)
	}
}

func TestParseMessageName(t *testing.T) {
	m, err := parseMessageName("1795386890-48600100200-1795386890.12.wav")
	if err != nil || m.caller != "48600100200" || m.uniqueID != "1795386890.12" || m.at.Unix() != 1795386890 {
		t.Fatalf("%+v %v", m, err)
	}
	if m, err := parseMessageName("1795386890--1795386890.13.wav"); err != nil || m.caller != "" {
		t.Fatalf("anonymous caller: %+v %v", m, err)
	}
	for _, bad := range []string{"x.wav", "abc-1-2.wav", "1-2.wav", "1-2-3.gsm", "1-12a-3.wav", "1-2-.wav"} {
		if _, err := parseMessageName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if uuidFrom("a") != uuidFrom("a") || uuidFrom("a") == uuidFrom("b") || len(uuidFrom("a")) != 36 {
		t.Fatal("uuidFrom is not a stable UUID")
	}
}

func TestOutcomeRoundTrip(t *testing.T) {
	for _, o := range Outcomes {
		got, err := ParseOutcome(o.String())
		if err != nil || got != o {
			t.Fatalf("%s: %v %v", o, got, err)
		}
	}
	if _, err := ParseOutcome("unknown"); err == nil {
		t.Fatal("unknown parsed")
	}
}

func TestPermanentDatabaseErrors(t *testing.T) {
	for code, want := range map[string]bool{"23514": true, "23505": true, "22P02": true, "08006": false, "57P01": false, "40001": false} {
		if got := permanent(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})); got != want {
			t.Errorf("%s: permanent %v, want %v", code, got, want)
		}
	}
	if !permanent(fmt.Errorf("link: %w", Refused{Err: fmt.Errorf("the ticket is closed")})) {
		t.Error("a refusal by the store's rules is permanent")
	}
	if permanent(fmt.Errorf("dial tcp: connection refused")) {
		t.Error("a connection error is not permanent")
	}
}
