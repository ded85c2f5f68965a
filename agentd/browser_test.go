package agentd

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kontakt/agentd/protocol"
	"kontakt/agentd/web"
)

// Chromium flags from ASTERISK-NOTES.md: headless, no background traffic, fake microphone and
// camera with the permission prompt answered. Loopback candidates are allowed so the page's
// peer connection reaches the server on 127.0.0.1 (the test sends nothing elsewhere).
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
	"--autoplay-policy=no-user-gesture-required", "--window-size=1280,1000", "--remote-debugging-port=0"}

func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is missing (apt-get install -y chromium); under CI the browser test must run")
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium)")
	return ""
}

// agentPage returns the built agent page: KONTAKT_UI_DIR, the build embedded in the binary, or a
// fresh build by web/build.sh.
func agentPage(t *testing.T) fs.FS {
	if d := os.Getenv("KONTAKT_UI_DIR"); d != "" {
		return os.DirFS(d)
	}
	if web.Built() {
		return web.FS()
	}
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the agent page is not built and npm is missing")
		}
		t.Skip("the agent page is not built and npm is missing")
	}
	cmd := exec.Command("bash", "web/build.sh")
	cmd.Env = append(os.Environ(), "SKIP_TESTS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the agent page: %v\n%s", err, out)
	}
	return os.DirFS("web/dist")
}

// TestBrowserAgentPage signs in on the real page in headless Chromium, goes available, gets an
// offer with its screen-pop, answers with the fake microphone over the page's peer connection,
// hears the (fake) caller's tone through the relay, holds, hangs up and submits the wrap-up.
// Screenshots are kept in artifacts/.
func TestBrowserAgentPage(t *testing.T) {
	chromium := chromiumPath(t)
	page := agentPage(t)
	e := newEnv(t, Options{UI: page})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Login, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != "hasło-"+in.Login {
			http.Error(w, "wrong login or password", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "kontakt_session", Value: in.Login, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/v1/auth/logout", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("/", stubAuth(e.srv.Handler()))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	ctx := ctxT(t, 90*time.Second)
	b := launchChromium(t, ctx, chromium)
	p := b.newPage(t, ctx)
	artifacts := artifactsDir(t)

	p.navigate(t, ts.URL+"/agent/")
	p.wait(t, `document.querySelector('#login') !== null`)
	p.eval(t, `document.documentElement.lang`, "pl")
	p.fill(t, "#login", "anna")
	p.fill(t, "#password", "zle")
	p.click(t, `button[type=submit]`)
	p.wait(t, `document.querySelector('[role=alert]')?.textContent.includes('Nieprawidłowy')`)
	p.fill(t, "#password", "hasło-anna")
	p.click(t, `button[type=submit]`)
	p.wait(t, `document.querySelector('[data-testid=conn]')?.textContent === 'połączono'`)
	if c := e.calls.expect(t, "SetState"); c.Arg != "paused/sign_in" {
		t.Fatalf("sign-in: %v", c)
	}
	p.wait(t, `document.querySelector('[data-testid=media]')?.textContent === 'gotowy'`)
	p.click(t, `[data-testid=available]`)
	if c := e.calls.expect(t, "SetState"); c.Arg != "available/" {
		t.Fatalf("available: %v", c)
	}
	p.wait(t, `document.querySelector('[data-testid=state]')?.textContent === 'dostępny'`)

	o := sampleOffer(123)
	if err := e.srv.Offer("u-17", o); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('[data-testid=ticket-number]')?.textContent === '2026/03/000123'`)
	p.wait(t, `document.querySelector('[data-testid=announcer]').textContent.includes('zgłoszenie 2026/03/000123')`)
	p.eval(t, `document.activeElement?.dataset.testid`, "answer") // focus moves to Answer
	p.eval(t, `document.querySelector('[data-testid=ivr-path]').textContent`, "PowitanieWybór języka (wybrano 1)Tematy (wybrano 3)")
	p.screenshot(t, filepath.Join(artifacts, "agent-page-offer.png"))

	// The call side attaches the call's leg to the page's softphone; a "caller" plays 440 Hz.
	sess, ok := e.srv.Media("u-17")
	if !ok {
		t.Fatal("no softphone for the page")
	}
	leg, err := sess.Attach(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ast := newFakeAsterisk(t, 440, leg.LocalAddr())
	leg.SetRemote(ast.addr())
	time.Sleep(500 * time.Millisecond) // a measuring window, not a wait: before Answer the page sends no RTP
	if n := leg.Stats().FromAgent.Packets; n != 0 {
		t.Errorf("the page sent %d packets before answering", n)
	}

	p.click(t, `[data-testid=answer]`)
	if c := e.calls.expect(t, "Accept"); c.Call != CallID(o.CallID) {
		t.Fatalf("accept: %v", c)
	}
	p.wait(t, `document.querySelector('[data-testid=call]') !== null`)
	eventually(t, "the page's microphone reaches the relay", func() bool { return leg.Stats().FromAgent.Packets > 0 })
	p.evalAsync(t, `new Promise((resolve) => {
		const el = document.querySelector('audio');
		const ctx = new AudioContext();
		const src = ctx.createMediaStreamSource(el.srcObject);
		const an = ctx.createAnalyser();
		an.fftSize = 8192;
		src.connect(an);
		const bins = new Float32Array(an.frequencyBinCount);
		const start = Date.now();
		const look = () => {
			an.getFloatFrequencyData(bins);
			let best = 0;
			for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
			const hz = best * ctx.sampleRate / an.fftSize;
			if (Math.abs(hz - 440) < 15 && bins[best] > -60) { window.__heard = hz; resolve(true); return; }
			if (Date.now() - start > 20000) { window.__heard = hz; resolve(false); return; }
			setTimeout(look, 50);
		};
		look();
	})`, true)
	leg.Detach()
	p.screenshot(t, filepath.Join(artifacts, "agent-page-call.png"))

	p.click(t, `[data-testid=hold]`)
	e.calls.expect(t, "Hold")
	p.wait(t, `document.querySelector('[data-testid=call]').textContent.includes('zawieszona')`)
	p.click(t, `[data-testid=hangup]`)
	if c := e.calls.expect(t, "Hangup"); c.Arg != "agent_hangup" {
		t.Fatalf("hang-up: %v", c)
	}
	p.wait(t, `document.querySelector('[data-testid=wrapup]') !== null`)
	p.click(t, `input[value=intervention]`)
	p.fill(t, "#category", "waste.bulky")
	p.fill(t, "#notes", "Kanapa przy Puławskiej 12.")
	p.click(t, `[data-testid=submit-wrapup]`)
	if c := e.calls.expect(t, "WrapUp"); c.Arg != "intervention/waste.bulky" {
		t.Fatalf("wrap-up: %v", c)
	}
	p.wait(t, `document.querySelector('[data-testid=wrapup]') === null`)

	// English toggle.
	p.click(t, `.topbar button[lang=en]`)
	p.wait(t, `document.documentElement.lang === 'en' && document.querySelector('[data-testid=conn]').textContent === 'connected'`)
	p.screenshot(t, filepath.Join(artifacts, "agent-page-en.png"))
	if err := e.srv.Offer("u-17", sampleOffer(124)); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('[data-testid=announcer]').textContent.startsWith('Incoming call: ticket 2026/03/000124')`)

	// A callback: the preview has the number and the attempt and nothing to answer; the page
	// shows the call once the resident answers.
	if err := e.srv.CancelOffer("u-17", CallID(sampleOffer(124).CallID), "rerouted"); err != nil {
		t.Fatal(err)
	}
	cb := sampleOffer(125)
	cb.Callback = &protocol.CallbackInfo{Number: "+48600100200", Attempt: 2}
	if err := e.srv.Offer("u-17", cb); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('[data-testid=callback]')?.textContent.includes('+48600100200 (attempt 2)') && document.querySelector('[data-testid=answer]') === null`)
	p.screenshot(t, filepath.Join(artifacts, "agent-page-callback.png"))
	if err := e.srv.CallConnected("u-17", CallID(cb.CallID)); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('[data-testid=call]') !== null && document.querySelector('[data-testid=offer]') === null`)
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("KONTAKT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is a Chromium process driven over the DevTools protocol.
type browser struct {
	cmd     *exec.Cmd
	ws      *websocket.Conn
	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpReply
	logs    []string
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

func launchChromium(t *testing.T, ctx context.Context, path string) *browser {
	// Its own profile directory, removed once the whole process group is gone: Chromium's helper
	// processes can still write there after the browser process is killed (t.TempDir's removal
	// then fails the test).
	profile, err := os.MkdirTemp("", "kontakt-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile, "about:blank")
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{cmd: cmd, pending: map[int]chan cdpReply{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsURL.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			b.mu.Lock()
			if len(b.logs) < 200 {
				b.logs = append(b.logs, sc.Text())
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if b.ws != nil {
			_ = b.ws.Close()
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	var u string
	select {
	case u = <-found:
	case <-ctx.Done():
		t.Fatalf("Chromium did not start: %s", strings.Join(b.logs, "\n"))
	}
	b.ws, _, err = websocket.DefaultDialer.DialContext(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.ws.SetReadLimit(64 << 20)
	go b.read()
	return b
}

func (b *browser) read() {
	for {
		var msg struct {
			ID int `json:"id"`
			cdpReply
		}
		if err := b.ws.ReadJSON(&msg); err != nil {
			b.mu.Lock()
			for _, ch := range b.pending {
				close(ch)
			}
			b.pending = map[int]chan cdpReply{}
			b.mu.Unlock()
			return
		}
		if msg.ID == 0 {
			continue // an event
		}
		b.mu.Lock()
		ch := b.pending[msg.ID]
		delete(b.pending, msg.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- msg.cdpReply
		}
	}
}

func (b *browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpReply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b.writeMu.Lock()
	err := b.ws.WriteJSON(msg)
	b.writeMu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, errors.New("devtools connection closed")
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

type page struct {
	b       *browser
	ctx     context.Context
	session string
}

func (b *browser) newPage(t *testing.T, ctx context.Context) *page {
	res, err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(res, &target)
	res, err = b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		t.Fatal(err)
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(res, &att)
	p := &page{b: b, ctx: ctx, session: att.SessionID}
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if _, err := b.call(ctx, p.session, m, map[string]any{}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (p *page) navigate(t *testing.T, url string) {
	t.Helper()
	if _, err := p.b.call(p.ctx, p.session, "Page.navigate", map[string]any{"url": url}); err != nil {
		t.Fatal(err)
	}
}

// run evaluates a JavaScript expression (awaiting a promise) and returns its JSON value.
func (p *page) run(expr string) (json.RawMessage, error) {
	res, err := p.b.call(p.ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("%s %s", r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	return r.Result.Value, nil
}

// eval checks that expr evaluates to want (a string).
func (p *page) eval(t *testing.T, expr, want string) {
	t.Helper()
	v, err := p.run(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var got string
	_ = json.Unmarshal(v, &got)
	if got != want {
		t.Fatalf("%s = %s, want %q", expr, v, want)
	}
}

// evalAsync checks that the promise expr resolves to want.
func (p *page) evalAsync(t *testing.T, expr string, want bool) {
	t.Helper()
	v, err := p.run(expr)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if string(v) != fmt.Sprint(want) {
		heard, _ := p.run(`window.__heard`)
		t.Fatalf("the page's check returned %s (heard %s Hz)", v, heard)
	}
}

// wait waits until the JavaScript condition holds (checked every 20 ms, at most 20 s).
func (p *page) wait(t *testing.T, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := p.run("Boolean(" + cond + ")")
		if err == nil && string(v) == "true" {
			return
		}
		if time.Now().After(deadline) {
			body, _ := p.run(`document.body.innerText`)
			t.Fatalf("timed out waiting for %s (err %v); page text: %s", cond, err, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *page) fill(t *testing.T, sel, value string) {
	t.Helper()
	js, _ := json.Marshal(value)
	ssel, _ := json.Marshal(sel)
	if _, err := p.run(fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.focus(); el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true})); })()`, ssel, js)); err != nil {
		t.Fatalf("fill %s: %v", sel, err)
	}
}

func (p *page) click(t *testing.T, sel string) {
	t.Helper()
	ssel, _ := json.Marshal(sel)
	p.wait(t, fmt.Sprintf(`document.querySelector(%s) && !document.querySelector(%s).disabled`, ssel, ssel))
	if _, err := p.run(fmt.Sprintf(`document.querySelector(%s).click()`, ssel)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

func (p *page) screenshot(t *testing.T, path string) {
	t.Helper()
	res, err := p.b.call(p.ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
	if err != nil {
		t.Fatal(err)
	}
	var shot struct{ Data string }
	_ = json.Unmarshal(res, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}
