package switchboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
)

// ARIOptions says how to reach Asterisk.
type ARIOptions struct {
	URL            string // base URL of Asterisk's HTTP server, e.g. http://127.0.0.1:8088
	User, Password string
	App            string
	MaxConns       int
	RequestTimeout time.Duration
}

var transportOnce sync.Once

// boundTransport bounds the process's default HTTP transport, which ari/v5's REST client uses
// (it has no option for its own client): at most maxConns connections to Asterisk (whose
// sessionlimit counts them), and no request waits for an answer longer than timeout.
func boundTransport(maxConns int, timeout time.Duration) {
	transportOnce.Do(func() {
		http.DefaultTransport = &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxConnsPerHost:       maxConns,
			MaxIdleConnsPerHost:   maxConns,
			MaxIdleConns:          4 * maxConns,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: timeout,
			ExpectContinueTimeout: time.Second,
		}
	})
}

// NewARIClient builds ari/v5's native client for the REST side only, with every option set
// explicitly (so none falls back to ARI_* environment variables or a random application name).
// Events are read by Kontakt's own websocket reader, not by the library's bus.
func NewARIClient(o ARIOptions) *native.Client {
	boundTransport(o.MaxConns, o.RequestTimeout)
	base := strings.TrimSuffix(o.URL, "/")
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ari/events"
	return native.New(&native.Options{
		Application:     o.App,
		URL:             base + "/ari",
		WebsocketURL:    ws,
		WebsocketOrigin: "http://localhost/",
		Username:        o.User,
		Password:        o.Password,
	})
}

// rest is a small REST helper for the calls ari/v5 does not wrap (event filters, move).
type rest struct {
	base       string
	user, pass string
	client     *http.Client
}

func newREST(o ARIOptions) *rest {
	boundTransport(o.MaxConns, o.RequestTimeout)
	return &rest{base: strings.TrimSuffix(o.URL, "/") + "/ari", user: o.User, pass: o.Password,
		client: &http.Client{Timeout: o.RequestTimeout}}
}

func (r *rest) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(r.user, r.pass)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return &ARIError{Status: resp.StatusCode, Method: method, Path: path, Body: strings.TrimSpace(string(b))}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ARIError is a REST request Asterisk refused.
type ARIError struct {
	Status       int
	Method, Path string
	Body         string
}

func (e *ARIError) Error() string {
	return fmt.Sprintf("ari %s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

// setEventFilter keeps noisy event types out of the websocket. The body is the bare filter
// object: a wrapped {"filter": …} body is silently ignored by Asterisk.
func (r *rest) setEventFilter(ctx context.Context, app string, disallowed []string) error {
	type typ struct {
		Type string `json:"type"`
	}
	var d []typ
	for _, t := range disallowed {
		d = append(d, typ{t})
	}
	return r.do(ctx, "PUT", "/applications/"+url.PathEscape(app)+"/eventFilter", map[string]any{"disallowed": d}, nil)
}

// appState is what Asterisk says an application owns right now: authoritative after a reconnect.
type appState struct {
	ChannelIDs []string `json:"channel_ids"`
	BridgeIDs  []string `json:"bridge_ids"`
}

func (r *rest) application(ctx context.Context, app string) (appState, error) {
	var s appState
	err := r.do(ctx, "GET", "/applications/"+url.PathEscape(app), nil, &s)
	return s, err
}

func (r *rest) channels(ctx context.Context) ([]ari.ChannelData, error) {
	var cs []ari.ChannelData
	err := r.do(ctx, "GET", "/channels", nil, &cs)
	return cs, err
}

// continueTo sends a channel back to the dialplan.
func (r *rest) continueTo(ctx context.Context, channelID, context_, exten string, priority int) error {
	q := url.Values{"context": {context_}, "extension": {exten}, "priority": {fmt.Sprint(priority)}}
	return r.do(ctx, "POST", "/channels/"+url.PathEscape(channelID)+"/continue?"+q.Encode(), nil, nil)
}

// isNotFound reports whether err is Asterisk's 404 (the object is gone: the caller hung up).
func isNotFound(err error) bool {
	if e, ok := err.(*ARIError); ok {
		return e.Status == 404
	}
	return err != nil && native.CodeFromError(err) == 404
}
