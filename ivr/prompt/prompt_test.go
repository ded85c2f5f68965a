package prompt

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kontakt/ivr"
)

// needTools skips without espeak-ng or sox, except in CI, where their absence is a failure.
func needTools(t *testing.T) {
	t.Helper()
	for _, p := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: the project's install script must install it (%v)", p, err)
			}
			t.Skipf("%s is missing: %v", p, err)
		}
	}
}

func newRenderer(t *testing.T) (*Renderer, string) {
	needTools(t)
	audio := t.TempDir()
	r, err := New(context.Background(), filepath.Join(t.TempDir(), "cache"), Options{AudioDir: audio})
	if err != nil {
		t.Fatal(err)
	}
	return r, audio
}

type wavInfo struct {
	format, channels, bits int
	rate                   int
	dataBytes              int
}

func (w wavInfo) duration() time.Duration {
	return time.Duration(w.dataBytes) * time.Second / time.Duration(w.rate*w.channels*w.bits/8)
}

// readWAV reads a RIFF/WAVE header and finds the data chunk.
func readWAV(t *testing.T, path string) wavInfo {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s is not a WAV file", path)
	}
	var w wavInfo
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			w.format = int(binary.LittleEndian.Uint16(body[0:]))
			w.channels = int(binary.LittleEndian.Uint16(body[2:]))
			w.rate = int(binary.LittleEndian.Uint32(body[4:]))
			w.bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			w.dataBytes = min(size, len(body))
		}
		off += 8 + size + size%2
	}
	return w
}

func checkTelephone(t *testing.T, path string, minDur time.Duration) {
	t.Helper()
	if !filepath.IsAbs(path) || filepath.Ext(path) != ".wav" {
		t.Errorf("%s: want an absolute .wav path", path)
	}
	w := readWAV(t, path)
	if w.format != 1 || w.channels != 1 || w.rate != 8000 || w.bits != 16 {
		t.Errorf("%s: format %d, %d channels, %d Hz, %d bits; want PCM mono 8000 Hz 16 bits", path, w.format, w.channels, w.rate, w.bits)
	}
	if d := w.duration(); d < minDur {
		t.Errorf("%s: %s of audio, want at least %s", path, d, minDur)
	}
}

func TestRenderEachLanguage(t *testing.T) {
	r, _ := newRenderer(t)
	ctx := context.Background()
	texts := map[ivr.Lang]string{
		ivr.LangPL: "Dzień dobry. Tu Miejskie Centrum Kontaktu 19 115.",
		ivr.LangEN: "Hello, you have reached the city contact centre.",
		ivr.LangUK: "Добрий день. Ви зателефонували до Міського контактного центру.",
	}
	paths := map[string]bool{}
	for l, text := range texts {
		start := time.Now()
		p, err := r.Render(ctx, l, text)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: rendered in %s", l, time.Since(start).Round(time.Millisecond))
		checkTelephone(t, p, time.Second)
		paths[p] = true
		st, _ := os.Stat(p)
		// cached: the same text gives the same file, not rewritten
		p2, err := r.Render(ctx, l, text)
		if err != nil || p2 != p {
			t.Fatalf("second render: %s %v", p2, err)
		}
		if st2, _ := os.Stat(p2); !st2.ModTime().Equal(st.ModTime()) {
			t.Error("the cached file was rendered again")
		}
	}
	if len(paths) != 3 {
		t.Error("different texts share a file")
	}
	// a different voice, same text: another file
	pl, _ := r.Render(ctx, ivr.LangPL, "112")
	en, _ := r.Render(ctx, ivr.LangEN, "112")
	if pl == en || pl == "" {
		t.Errorf("same file for two voices: %s", pl)
	}
	// text beginning with a dash is text, not an option
	if p, err := r.Render(ctx, ivr.LangEN, "-v xx --help"); err != nil {
		t.Error(err)
	} else {
		checkTelephone(t, p, 200*time.Millisecond)
	}
	if _, err := r.Render(ctx, "de", "Hallo"); err == nil {
		t.Error("German rendered without a voice")
	}
	if _, err := r.Render(ctx, ivr.LangPL, "  "); err == nil {
		t.Error("empty text rendered")
	}
	if u := SoundURI(pl); !strings.HasPrefix(u, "sound:/") || strings.HasSuffix(u, ".wav") {
		t.Errorf("SoundURI: %s", u)
	}
	// nothing half-written is left behind
	left, _ := filepath.Glob(filepath.Join(r.Dir(), ".render-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestConvertUploads(t *testing.T) {
	r, audio := newRenderer(t)
	ctx := context.Background()
	sox := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, out)
		}
	}
	// a CD-quality stereo WAV and an OGG, as an administrator might upload
	sox("-n", "-r", "44100", "-c", "2", "-b", "16", filepath.Join(audio, "tone.wav"), "synth", "2", "sine", "440")
	sox("-n", "-r", "48000", "-c", "1", filepath.Join(audio, "tone.ogg"), "synth", "1.5", "sine", "660")
	for _, ref := range []string{"tone.wav", "tone.ogg"} {
		p, err := r.Convert(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		checkTelephone(t, p, time.Second)
	}
	// MP3: converted where sox can read it, refused clearly where it cannot; never faked
	os.WriteFile(filepath.Join(audio, "greeting.mp3"), []byte("ID3 not really"), 0o644)
	_, err := r.Convert(ctx, "greeting.mp3")
	if !r.CanReadMP3() {
		if !errors.Is(err, ErrMP3Unsupported) || !strings.Contains(err.Error(), "libsox-fmt-mp3") {
			t.Errorf("MP3 without support: %v", err)
		}
	} else if err == nil {
		t.Error("a broken MP3 converted")
	}
	os.WriteFile(filepath.Join(audio, "broken.wav"), []byte("RIFF garbage"), 0o644)
	if _, err := r.Convert(ctx, "broken.wav"); err == nil || !strings.Contains(err.Error(), "broken.wav") {
		t.Errorf("broken WAV: %v", err)
	}
	for _, bad := range []string{"../secret.wav", "/etc/passwd.wav", "missing.wav", "notes.txt"} {
		if _, err := r.Convert(ctx, bad); err == nil {
			t.Errorf("%s converted", bad)
		}
	}
}

func TestRenderDefaultMenu(t *testing.T) {
	r, _ := newRenderer(t)
	m := ivr.DefaultMenu()
	start := time.Now()
	files, err := r.RenderMenu(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d prompts rendered in %s", len(files), time.Since(start).Round(time.Millisecond))
	prompts := m.Prompts()
	if len(files) != len(prompts) {
		t.Fatalf("%d files for %d prompts", len(files), len(prompts))
	}
	for _, p := range prompts {
		checkTelephone(t, files[p.Key], 500*time.Millisecond)
	}
	// the shared "connecting you" prompt is one file
	if files["nodes.q_transport.prompt.pl"] != files["nodes.q_general.prompt.pl"] {
		t.Error("identical prompts rendered twice")
	}
	// every prompt a call can play has a file, in every language
	c := ivr.NewCall(m, ivr.CallOptions{Language: ivr.LangUK})
	for _, a := range c.Start(time.Now()) {
		if p, ok := a.(ivr.Play); ok {
			for _, ref := range p.Prompts {
				if files[ref.Key] == "" {
					t.Errorf("no file for %s", ref.Key)
				}
			}
		}
	}
}

func TestRenderMenuReportsEveryFailure(t *testing.T) {
	r, _ := newRenderer(t)
	doc := `{"format":1,"id":"t","languages":["pl"],"start":"a","nodes":{
	  "a":{"kind":"play","prompt":{"pl":{"audio":"missing.wav"}},"next":"b"},
	  "b":{"kind":"play","prompt":{"pl":{"audio":"music.mp3"}},"next":"c"},
	  "c":{"kind":"hangup","prompt":{"pl":"Do widzenia."}}}}`
	m, ps := ivr.Load([]byte(doc), nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	files, err := r.RenderMenu(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "nodes.a.prompt.pl") || !strings.Contains(err.Error(), "nodes.b.prompt.pl") {
		t.Fatalf("err = %v", err)
	}
	if files["nodes.c.prompt.pl"] == "" {
		t.Error("the good prompt was not rendered")
	}
}
