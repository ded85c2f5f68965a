package switchboard

import (
	"encoding/json"
	"fmt"

	"github.com/CyCoreSystems/ari/v5"
)

// Event is one message from Asterisk's event websocket. Known types are decoded by ari/v5's
// models; a type ari/v5 does not know (newer Asterisk versions add some) is kept opaque with
// its raw JSON instead of bringing the process down.
type Event struct {
	Type string
	// ARI is the decoded event, nil for an opaque one.
	ARI ari.Event
	Raw json.RawMessage
	// Data is set on Kontakt's own events (Type "kontakt"), posted to a call with Call.Post.
	Data any
}

// decodeEvent decodes one websocket message. Only malformed JSON or a message without a type
// is an error; unknown types are opaque events.
func decodeEvent(b []byte) (Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Event{}, fmt.Errorf("ari event: malformed JSON: %w", err)
	}
	if head.Type == "" {
		return Event{}, fmt.Errorf("ari event: no type")
	}
	ev := Event{Type: head.Type, Raw: append(json.RawMessage(nil), b...)}
	if e, err := ari.DecodeEvent(b); err == nil && e != nil {
		ev.ARI = e
	}
	return ev, nil
}

// keys returns the ids of the Asterisk objects the event concerns (channels, bridges, playbacks,
// recordings), as "kind:id". Opaque events are routed by any channel or bridge object they carry.
func (e Event) keys() []string {
	var out []string
	if e.ARI != nil {
		for _, k := range e.ARI.Keys() {
			out = append(out, k.Kind+":"+k.ID)
		}
		// A playback's target URI ("channel:ID", "bridge:ID") is already a key.
		if pe, ok := e.ARI.(*ari.PlaybackStarted); ok {
			out = append(out, pe.Playback.TargetURI)
		}
		if pe, ok := e.ARI.(*ari.PlaybackFinished); ok {
			out = append(out, pe.Playback.TargetURI)
		}
		return out
	}
	var objs struct {
		Channel *struct {
			ID string `json:"id"`
		} `json:"channel"`
		Bridge *struct {
			ID string `json:"id"`
		} `json:"bridge"`
	}
	if json.Unmarshal(e.Raw, &objs) == nil {
		if objs.Channel != nil {
			out = append(out, ari.ChannelKey+":"+objs.Channel.ID)
		}
		if objs.Bridge != nil {
			out = append(out, ari.BridgeKey+":"+objs.Bridge.ID)
		}
	}
	return out
}
