package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kontakt/internal/auth"
	"kontakt/internal/resident"
	"kontakt/recording"
)

// chromeFlags: headless Chromium without background traffic or proxy, with a fake microphone and
// the permission prompt answered, driven over a DevTools pipe (fds 3 and 4) so that it can run
// inside the test's network namespace.
var chromeFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server",
	"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
	"--autoplay-policy=no-user-gesture-required", "--window-size=1280,1000", "--remote-debugging-pipe"}

// The test's network: Kontakt's side of the veth pair and Chromium's, inside the namespace.
const (
	hostIP    = "10.77.0.1"
	browserIP = "10.77.0.2"
	testNet   = "10.77.0.0/24"
)

// TestE2EBrowserAgentAnswersRealCall: a consultant signs in on the real agent page in headless
// Chromium, goes available, gets the offer for a resident's call through Asterisk, answers it and
// hears the resident's 800 Hz tone, measured with WebAudio in the page. The screenshot taken
// during the call is kept in artifacts/.
//
// Chromium gathers no loopback ICE candidates it may use here (it pairs the machine's external
// address with loopback), so it runs in a network namespace the test creates, joined to the test
// process by a veth pair: Kontakt serves HTTP and WebRTC on 10.77.0.1, Chromium is 10.77.0.2.
// Asterisk, Postgres and the RTP relay stay on loopback.
func TestE2EBrowserAgentAnswersRealCall(t *testing.T) {
	chromium := chromiumBin(t)
	ns := browserNetns(t)
	cfg := testConfig()
	cfg.Listen = hostIP + ":0"
	cfg.Media.Networks = []string{testNet}
	cfg.Media.IncludeLoopback = false
	a := startApp(t, cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	useShortMenu(t, a)
	const login, password = "konsultant-chromium", "a-long-test-password-chromium"
	if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: "Konsultant Chromium",
		Roles: []auth.Role{auth.RoleConsultant}, Password: password}); err != nil {
		t.Fatal(err)
	}

	// getUserMedia needs a secure context: Kontakt's address in the test network is declared one.
	b := launchChrome(t, ctx, ns, chromium, "--unsafely-treat-insecure-origin-as-secure=http://"+a.Addr())
	p := b.newPage(t, ctx)
	// Keep the page's peer connections reachable, for the packet counters and the ICE pair.
	if _, err := b.call(ctx, p.session, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": `(() => {
		const PC = window.RTCPeerConnection;
		window.__pcs = [];
		window.RTCPeerConnection = function (...args) { const pc = new PC(...args); window.__pcs.push(pc); return pc; };
		window.RTCPeerConnection.prototype = PC.prototype;
		Object.setPrototypeOf(window.RTCPeerConnection, PC);
	})()`}); err != nil {
		t.Fatal(err)
	}
	p.navigate(t, "http://"+a.Addr()+"/agent/")
	p.wait(t, `document.querySelector('#login') !== null`)
	p.fill(t, "#login", login)
	p.fill(t, "#password", password)
	p.click(t, `button[type=submit]`)
	p.wait(t, `document.querySelector('[data-testid=conn]')?.textContent === 'połączono'`)
	p.wait(t, `document.querySelector('[data-testid=media]')?.textContent === 'gotowy'`)
	p.click(t, `[data-testid=available]`)
	p.wait(t, `document.querySelector('[data-testid=state]')?.textContent === 'dostępny'`)

	// The resident calls, reaches the roads queue, and plays 800 Hz once the consultant could answer.
	steps, err := resident.ParseScript("await roads, wait 2s, tone 800 4s, wait 1s, hangup")
	if err != nil {
		t.Fatal(err)
	}
	cl := dialResident(t, cfg)
	type placed struct {
		res resident.Result
		err error
	}
	done := make(chan placed, 1)
	go func() {
		res, err := cl.Place(ctx, resident.Call{CallerID: "+48600100700", Steps: steps, Await: awaitNode(a.Store)})
		done <- placed{res, err}
	}()

	p.wait(t, `document.querySelector('[data-testid=answer]') !== null && document.querySelector('[data-testid=ticket-number]')?.textContent !== ''`)
	ticket := p.str(t, `document.querySelector('[data-testid=ticket-number]').textContent`)
	// Answer, then listen to the remote stream with an analyser until 800 Hz dominates (≤ 15 s).
	// Times are from the click on Answer: first RTP packet received by the page (its peer connection
	// is up from sign-in, so the count before Answer shows nothing came earlier), first non-silent
	// audio, first 800 Hz; the resident's script waits 2 s before its tone.
	p.wait(t, `document.querySelector('[data-testid=answer]') && !document.querySelector('[data-testid=answer]').disabled`)
	v2, err := p.run(`new Promise((resolve) => {
		const packets = async () => {
			let n = 0;
			for (const pc of window.__pcs) (await pc.getStats()).forEach((r) => {
				if (r.type === 'inbound-rtp' && r.kind === 'audio') n += r.packetsReceived;
			});
			return n;
		};
		const out = {heard: false, inCall: false, packetsBefore: -1, firstPacketMs: -1, firstSoundMs: -1, toneMs: -1, hz: 0, db: -200, rms: 0};
		packets().then((n) => {
			out.packetsBefore = n;
			const t0 = performance.now();
			document.querySelector('[data-testid=answer]').click();
			const firstPacket = (async () => {
				while (performance.now() - t0 < 15000) {
					if (await packets() > out.packetsBefore) { out.firstPacketMs = performance.now() - t0; return; }
					await new Promise((r) => setTimeout(r, 5));
				}
			})();
			listen(t0, firstPacket);
		});
		const listen = (t0, firstPacket) => {
			let ctx, an, bins, td;
			const look = () => {
				const el = document.querySelector('audio');
				if (!an && el && el.srcObject && el.srcObject.getAudioTracks().length > 0) {
					ctx = new AudioContext();
					an = ctx.createAnalyser();
					an.fftSize = 8192;
					ctx.createMediaStreamSource(el.srcObject).connect(an);
					bins = new Float32Array(an.frequencyBinCount);
					td = new Float32Array(an.fftSize);
				}
				if (an) {
					an.getFloatTimeDomainData(td);
					let s = 0;
					for (const x of td) s += x * x;
					const rms = Math.sqrt(s / td.length);
					if (rms > 0.01 && out.firstSoundMs < 0) out.firstSoundMs = performance.now() - t0;
					an.getFloatFrequencyData(bins);
					let best = 1;
					for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
					out.hz = best * ctx.sampleRate / an.fftSize;
					out.db = bins[best];
					out.rms = rms;
					if (Math.abs(out.hz - 800) < 15 && out.db > -80 && rms > 0.01) {
						out.heard = true;
						out.toneMs = performance.now() - t0;
						out.inCall = document.querySelector('[data-testid=call]') !== null;
						firstPacket.then(() => resolve(out));
						return;
					}
				}
				if (performance.now() - t0 > 15000) { resolve(out); return; }
				setTimeout(look, 20);
			};
			look();
		};
	})`)
	if err != nil {
		t.Fatalf("measuring the remote audio: %v", err)
	}
	var heard struct {
		Heard, InCall bool
		PacketsBefore int
		FirstPacketMs float64
		FirstSoundMs  float64
		ToneMs        float64
		Hz, DB, RMS   float64
	}
	if err := json.Unmarshal(v2, &heard); err != nil {
		t.Fatalf("%s: %v", v2, err)
	}
	p.screenshot(t, filepath.Join(artifactsPath(t), "e2e-browser-call.png"))
	if !heard.Heard {
		t.Fatalf("the page never heard the resident's 800 Hz within 15 s of answering: last dominant %.0f Hz at %.1f dB, rms %.4f; first packet at %.0f ms, first sound at %.0f ms",
			heard.Hz, heard.DB, heard.RMS, heard.FirstPacketMs, heard.FirstSoundMs)
	}
	t.Logf("in the page, from the click on Answer: first RTP packet %.0f ms (%d before), first non-silent audio %.0f ms, 800 Hz %.0f ms (dominant %.1f Hz, %.1f dB, rms %.3f)",
		heard.FirstPacketMs, heard.PacketsBefore, heard.FirstSoundMs, heard.ToneMs, heard.Hz, heard.DB, heard.RMS)
	// The media path is the test's veth pair.
	pair := p.str(t, `(async () => {
		for (const pc of window.__pcs) {
			const st = await pc.getStats();
			for (const r of st.values()) if (r.type === 'transport' && r.selectedCandidatePairId) {
				const cp = st.get(r.selectedCandidatePairId);
				return st.get(cp.localCandidateId).address + ' ↔ ' + st.get(cp.remoteCandidateId).address;
			}
		}
		return 'none';
	})()`)
	if want := browserIP + " ↔ " + hostIP; pair != want {
		t.Errorf("the page's selected ICE pair is %s, want %s", pair, want)
	}
	if !heard.InCall {
		t.Error("the page did not show the call while its audio played")
	}

	var pl placed
	select {
	case pl = <-done:
	case <-ctx.Done():
		t.Fatal("the resident's call did not end")
	}
	if pl.err != nil {
		t.Fatalf("resident: %v", pl.err)
	}
	call := endedCall(t, a.Store, pl.res.Ref)
	if call.Outcome != "answered" {
		t.Errorf("outcome %s, want answered", call.Outcome)
	}
	tk, err := a.Store.Ticket(ctx, call.TicketID)
	if err != nil || tk.Number != ticket {
		t.Errorf("the page showed ticket %q, the call's ticket is %q (%v)", ticket, tk.Number, err)
	}
	p.wait(t, `document.querySelector('[data-testid=wrapup]') !== null`)
	// The answered call is recorded; let the archive finalise it before Kontakt stops.
	waitFor(t, 15*time.Second, "the call's recording finalised", func() bool {
		rec, err := a.Archive.ByLeg(ctx, call.ID, 1)
		return err == nil && rec.State == recording.StateFinalised
	})
}

func chromiumBin(t *testing.T) string {
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

// artifactsPath is KONTAKT_ARTIFACTS or the repository's artifacts/ directory.
func artifactsPath(t *testing.T) string {
	dir := os.Getenv("KONTAKT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserNetns creates a network namespace with lo up and a veth pair to it (hostIP here,
// browserIP inside), torn down at cleanup. It needs root and iproute2: under CI their absence
// fails the test.
func browserNetns(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser test needs a network namespace: %s", why)
		}
		t.Skipf("the browser test needs a network namespace: %s", why)
	}
	if os.Geteuid() != 0 {
		missing("not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		missing("ip (iproute2) is missing")
	}
	id := os.Getpid() % 100000
	ns, veth, peer := fmt.Sprintf("kontakt-e2e-%d", id), fmt.Sprintf("kb%dh", id), fmt.Sprintf("kb%dn", id)
	ip := func(args ...string) error {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", ns); err != nil {
		missing(err.Error())
	}
	t.Cleanup(func() {
		if err := ip("netns", "del", ns); err != nil {
			t.Errorf("removing the namespace: %v", err)
		}
		_ = ip("link", "del", veth) // normally gone with the namespace
	})
	for _, args := range [][]string{
		{"-n", ns, "link", "set", "lo", "up"},
		{"link", "add", veth, "type", "veth", "peer", "name", peer, "netns", ns},
		{"addr", "add", hostIP + "/24", "dev", veth},
		{"link", "set", veth, "up"},
		{"-n", ns, "addr", "add", browserIP + "/24", "dev", peer},
		{"-n", ns, "link", "set", peer, "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// cdpBrowser is a Chromium process driven over the DevTools protocol (a pipe: NUL-terminated
// JSON messages, commands on Chromium's fd 3, replies and events on its fd 4).
type cdpBrowser struct {
	in      *os.File
	out     *bufio.Reader
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

// launchChrome starts Chromium inside the network namespace ns with a fresh profile.
func launchChrome(t *testing.T, ctx context.Context, ns, path string, extra ...string) *cdpBrowser {
	args := append([]string{"netns", "exec", ns, path}, chromeFlags...)
	args = append(args, extra...)
	args = append(args, "--user-data-dir="+t.TempDir(), "about:blank")
	cmd := exec.Command("ip", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmdIn, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, cmdOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdIn.Close()
	cmdOut.Close()
	b := &cdpBrowser{in: in, out: bufio.NewReader(out), pending: map[int]chan cdpReply{}}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			b.mu.Lock()
			if len(b.logs) < 200 {
				b.logs = append(b.logs, sc.Text())
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		in.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // Chromium and its own children
		_ = cmd.Wait()
		out.Close()
		if t.Failed() {
			b.mu.Lock()
			t.Logf("Chromium's log:\n%s", strings.Join(b.logs, "\n"))
			b.mu.Unlock()
		}
	})
	go b.read()
	if _, err := b.call(ctx, "", "Browser.getVersion", map[string]any{}); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		t.Fatalf("Chromium did not start: %v\n%s", err, strings.Join(b.logs, "\n"))
	}
	return b
}

func (b *cdpBrowser) read() {
	for {
		line, err := b.out.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for _, ch := range b.pending {
				close(ch)
			}
			b.pending = map[int]chan cdpReply{}
			b.mu.Unlock()
			return
		}
		var msg struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(line[:len(line)-1], &msg) != nil || msg.ID == 0 {
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

func (b *cdpBrowser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
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
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	b.writeMu.Lock()
	_, err = b.in.Write(append(data, 0))
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

type cdpPage struct {
	b       *cdpBrowser
	ctx     context.Context
	session string
}

func (b *cdpBrowser) newPage(t *testing.T, ctx context.Context) *cdpPage {
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
	p := &cdpPage{b: b, ctx: ctx, session: att.SessionID}
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if _, err := b.call(ctx, p.session, m, map[string]any{}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (p *cdpPage) navigate(t *testing.T, url string) {
	t.Helper()
	if _, err := p.b.call(p.ctx, p.session, "Page.navigate", map[string]any{"url": url}); err != nil {
		t.Fatal(err)
	}
}

// run evaluates a JavaScript expression (awaiting a promise) and returns its JSON value.
func (p *cdpPage) run(expr string) (json.RawMessage, error) {
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

// str evaluates expr to a string.
func (p *cdpPage) str(t *testing.T, expr string) string {
	t.Helper()
	v, err := p.run(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// wait waits until the JavaScript condition holds (checked every 20 ms, at most 20 s).
func (p *cdpPage) wait(t *testing.T, cond string) {
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

func (p *cdpPage) fill(t *testing.T, sel, value string) {
	t.Helper()
	js, _ := json.Marshal(value)
	ssel, _ := json.Marshal(sel)
	if _, err := p.run(fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.focus(); el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true})); })()`, ssel, js)); err != nil {
		t.Fatalf("fill %s: %v", sel, err)
	}
}

func (p *cdpPage) click(t *testing.T, sel string) {
	t.Helper()
	ssel, _ := json.Marshal(sel)
	p.wait(t, fmt.Sprintf(`document.querySelector(%s) && !document.querySelector(%s).disabled`, ssel, ssel))
	if _, err := p.run(fmt.Sprintf(`document.querySelector(%s).click()`, ssel)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

func (p *cdpPage) screenshot(t *testing.T, path string) {
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
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot %s", abs)
}
