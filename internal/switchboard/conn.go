package switchboard

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// EventConn is one connection of Kontakt's own reader to Asterisk's event websocket.
type EventConn struct {
	ws *websocket.Conn
}

func DialEvents(ctx context.Context, o ARIOptions) (*EventConn, error) {
	base := strings.TrimSuffix(o.URL, "/")
	u := "ws" + strings.TrimPrefix(base, "http") + "/ari/events?" + url.Values{
		"app": {o.App}, "subscribeAll": {"false"},
	}.Encode()
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.User+":"+o.Password)))
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, ReadBufferSize: 64 << 10}
	ws, resp, err := d.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("ari: %s refused user %q: check ari.user/ari.password against ari.conf", base, o.User)
		}
		return nil, fmt.Errorf("ari: connect %s: %w", base, err)
	}
	ws.SetReadLimit(16 << 20)
	return &EventConn{ws: ws}, nil
}

// Read reads events until the connection fails or ctx ends, handing each to deliver, which
// must not block. Decode errors of single messages are reported to bad and skipped.
func (c *EventConn) Read(ctx context.Context, deliver func(Event), bad func([]byte, error)) error {
	stop := context.AfterFunc(ctx, func() { c.ws.Close() })
	defer stop()
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		ev, err := decodeEvent(b)
		if err != nil {
			bad(b, err)
			continue
		}
		deliver(ev)
	}
}

func (c *EventConn) Close() { c.ws.Close() }

// backoff yields reconnect delays growing from min to max, with jitter.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	j := time.Duration(rand.Int64N(int64(b.cur)/4 + 1))
	return b.cur - b.cur/8 + j
}

func (b *backoff) reset() { b.cur = 0 }

var errStopped = errors.New("switchboard stopped")
