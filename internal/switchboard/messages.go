package switchboard

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kontakt/internal/store"
)

// importMessages turns voice messages that the dialplan recorded while Kontakt was away into
// tickets. A file is named EPOCH-CALLER-UNIQUEID.wav; it is taken once its channel is gone (the
// recording is complete), and moved to done/ after its rows are written. Importing twice is
// harmless: the call id is derived from the channel's unique id.
func (s *Switchboard) importMessages(ctx context.Context, _ map[string]bool) error {
	files, err := filepath.Glob(filepath.Join(s.o.MessagesDir, "*.wav"))
	if err != nil || len(files) == 0 {
		return err
	}
	chans, err := s.rest.channels(ctx)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, ch := range chans {
		live[ch.ID] = true
	}
	for _, f := range files {
		m, err := parseMessageName(filepath.Base(f))
		if err != nil {
			s.log.Warn("voice message with an unexpected name moved aside", "file", f, "err", err)
			moveInto(f, filepath.Join(s.o.MessagesDir, "rejected"))
			continue
		}
		if live[m.uniqueID] {
			continue // still recording
		}
		dest := filepath.Join(s.o.MessagesDir, "done", m.at.UTC().Format("2006-01-02"), filepath.Base(f))
		id := store.CallID(uuidFrom("voice-message:" + m.uniqueID))
		t, err := s.o.Store.CreateCallWithTicket(ctx, store.NewCall{ID: id, ChannelID: m.uniqueID, Caller: m.caller,
			Called: "19115", StartedAt: m.at,
			Description: fmt.Sprintf("Wiadomość głosowa nagrana, gdy system był niedostępny (%s). Nagranie: %s",
				m.at.Format(time.RFC3339), dest)})
		if err != nil {
			return err
		}
		if err := s.o.Store.AppendCallEvents(ctx, id, []store.CallEvent{{Seq: 1, At: m.at, Type: string(EvMessage),
			Data: map[string]any{"file": dest}}}); err != nil {
			return err
		}
		if err := s.o.Store.EndCall(ctx, id, m.at, string(OutcomeMessage), 0); err != nil {
			return err
		}
		if err := moveInto(f, filepath.Dir(dest)); err != nil {
			return err
		}
		s.log.Info("voice message became a ticket", "ticket", t.Number, "caller", m.caller, "file", dest)
	}
	return nil
}

type messageName struct {
	at       time.Time
	caller   string
	uniqueID string
}

func parseMessageName(name string) (messageName, error) {
	base, ok := strings.CutSuffix(name, ".wav")
	if !ok {
		return messageName{}, fmt.Errorf("not a .wav file")
	}
	parts := strings.SplitN(base, "-", 3)
	if len(parts) != 3 {
		return messageName{}, fmt.Errorf("want EPOCH-CALLER-UNIQUEID.wav")
	}
	sec, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || sec <= 0 {
		return messageName{}, fmt.Errorf("bad time %q", parts[0])
	}
	if parts[2] == "" {
		return messageName{}, fmt.Errorf("no channel id")
	}
	for _, r := range parts[1] {
		if (r < '0' || r > '9') && r != '+' {
			return messageName{}, fmt.Errorf("bad caller %q", parts[1])
		}
	}
	return messageName{at: time.Unix(sec, 0), caller: parts[1], uniqueID: parts[2]}, nil
}

func moveInto(f, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.Rename(f, filepath.Join(dir, filepath.Base(f)))
}

// uuidFrom derives a stable UUID (version 8, name-based) from a name.
func uuidFrom(name string) string {
	h := sha256.Sum256([]byte(name))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
