package ivr

import (
	"testing"
	"time"
)

// pingPong: two menus whose key 1 leads to each other, so every key enters a node and starts
// its prompt.
const pingPong = `{"format":1,"id":"b","languages":["pl","en","uk"],"start":"a","nodes":{
 "a":{"kind":"menu","prompt":{"pl":"A","en":"A","uk":"A"},"options":[{"digit":"1","next":"b"},{"digit":"9","repeat":true}],"fallback":"q"},
 "b":{"kind":"menu","prompt":{"pl":"B","en":"B","uk":"B"},"options":[{"digit":"1","next":"a"}],"fallback":"q"},
 "q":{"kind":"queue","queue":"general"}}}`

func benchCall(b *testing.B) (*Call, time.Time) {
	m, ps := Load([]byte(pingPong), nil)
	if len(ps) > 0 {
		b.Fatal(ps)
	}
	now := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	c := NewCall(m, CallOptions{Language: LangEN})
	c.Start(now)
	return c, now
}

// BenchmarkStepDigitToNextPrompt: a key during a menu prompt (barge-in) → stop, enter the next
// node, play its prompt.
func BenchmarkStepDigitToNextPrompt(b *testing.B) {
	c, now := benchCall(b)
	b.ReportAllocs()
	for b.Loop() {
		acts := c.Step(now, DTMF{Digit: '1'})
		if len(acts) != 4 {
			b.Fatal(acts)
		}
	}
}

// BenchmarkStepDigitWaiting: a key while the menu waits for one (timer running) → cancel the
// timer, enter the next node, play; then the prompt ends and the timer starts again.
func BenchmarkStepDigitWaiting(b *testing.B) {
	c, now := benchCall(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Step(now, PromptFinished{ID: c.play})
		acts := c.Step(now, DTMF{Digit: '1'})
		if _, ok := acts[len(acts)-1].(Play); !ok {
			b.Fatal(acts)
		}
	}
}

// BenchmarkStepDefaultMenu: one whole caller through the 19115 menu: notices, English, topic 3.
func BenchmarkStepDefaultMenu(b *testing.B) {
	m := DefaultMenu()
	now := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		c := NewCall(m, CallOptions{})
		c.Start(now)
		for range 3 {
			c.Step(now, PromptFinished{ID: c.play})
		}
		c.Step(now, DTMF{Digit: '2'})
		c.Step(now, DTMF{Digit: '3'})
		c.Step(now, PromptFinished{ID: c.play})
		if !c.Done() {
			b.Fatal("not done")
		}
	}
}
