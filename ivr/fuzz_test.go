package ivr

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecodeValidate: whatever the document, decoding and validating never panic, every
// problem is located (a path, a code, a message; a line for syntax errors), a document without
// problems survives a round trip, and the interpreter survives any decoded menu.
// Corpus: testdata/fuzz/FuzzDecodeValidate. Run: go test ./ivr -run '^$' -fuzz FuzzDecodeValidate
func FuzzDecodeValidate(f *testing.F) {
	f.Add(defaultMenuJSON)
	f.Add([]byte(base))
	f.Add([]byte(`{"format":1,"id":"x","languages":["pl"],"start":"a","nodes":{"a":{"kind":"goto","next":"a"}}}`))
	f.Add([]byte(`{"nodes":{"a":{"kind":"menu","options":[{"digit":"12"}],"timeout":"-1s"}}}`))
	f.Add([]byte(`{"nodes":{"h":{"kind":"hours","schedule":[{"days":["mon"],"from":"24:00","to":"08:00"}],"holidays":["2026-02-30"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, ps := Load(data, testCatalog)
		if m == nil && len(ps) == 0 {
			t.Fatal("no menu and no problem")
		}
		for _, p := range ps {
			if p.Path == "" || p.Code == "" || p.Message == "" {
				t.Fatalf("unlocated problem: %+v", p)
			}
			if p.Code == CodeSyntax && p.Line == 0 {
				t.Fatalf("syntax problem without a line: %+v", p)
			}
		}
		if m == nil {
			return
		}
		if len(ps) == 0 {
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, ps2 := Load(out, testCatalog); len(ps2) > 0 {
				t.Fatalf("a valid menu re-encoded has problems: %v\n%s", ps2, out)
			}
		}
		drive(m, data)
	})
}

// drive runs a call through m with events chosen by the bytes of data.
func drive(m *Menu, data []byte) {
	now := time.Date(2026, 3, 29, 1, 59, 0, 0, time.UTC)
	c := NewCall(m, CallOptions{})
	var play PlaybackID
	var timer TimerID
	var lookup string
	track := func(acts []Action) {
		for _, a := range acts {
			switch a := a.(type) {
			case Play:
				play = a.ID
			case StartTimer:
				timer = a.ID
			case LookupTicket:
				lookup = a.Number
			}
		}
	}
	track(c.Start(now))
	for i, b := range data {
		if c.Done() || i > 200 {
			return
		}
		now = now.Add(time.Duration(b) * time.Second)
		switch b % 6 {
		case 0:
			track(c.Step(now, PromptFinished{ID: play}))
		case 1:
			track(c.Step(now, TimerFired{ID: timer}))
		case 2:
			track(c.Step(now, LookupResult{Number: lookup, Status: LookupStatus(b % 5)}))
		default:
			track(c.Step(now, DTMF{Digit: "0123456789*#A"[int(b)%13]}))
		}
	}
}
