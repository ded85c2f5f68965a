package agent

import (
	"testing"

	"kontakt/agentd/protocol"
)

// The protocol flow itself is tested in package agentd, against the real server.

func TestWebSocketURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":            "ws://127.0.0.1:8080/api/v1/agent/ws",
		"https://desk.example.org/":        "wss://desk.example.org/api/v1/agent/ws",
		"https://desk.example.org/kt":      "wss://desk.example.org/kt/api/v1/agent/ws",
		"ws://127.0.0.1:1/api/v1/agent/ws": "ws://127.0.0.1:1/api/v1/agent/ws",
	} {
		if got, err := WebSocketURL(in); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	if _, err := WebSocketURL("ftp://x"); err == nil {
		t.Error("ftp accepted")
	}
}

func TestMailboxKeepsOrderWithoutBlocking(t *testing.T) {
	m := newMailbox()
	for i := range 1000 { // nobody reads yet: push never blocks
		m.push(protocol.Envelope{ID: string(rune('a' + i%26))})
	}
	for i := range 1000 {
		if env := <-m.out; env.ID != string(rune('a'+i%26)) {
			t.Fatalf("event %d out of order: %q", i, env.ID)
		}
	}
	m.close()
	if _, ok := <-m.out; ok {
		t.Fatal("events not closed")
	}
}
