// Package prompt renders a menu's prompts to telephone audio: text with espeak-ng, uploaded
// recordings (WAV, MP3, OGG) with sox, both to 8 kHz mono 16-bit PCM WAV, which Asterisk plays
// as sound:/abs/path-without-extension. Files are cached in one directory by a hash of what
// made them, so rendering is done once, at publish time, never on the call path (except the
// ticket status answer, whose text is only known during the call: render it with Render then;
// espeak-ng + sox take ~20 ms a sentence here).
//
// This is the only part of ivr that runs programs. It needs espeak-ng (voices pl, en, uk) and
// sox, from Debian's packages of the same names. Debian's sox reads MP3 only with
// libsox-fmt-mp3 installed; without it an MP3 upload fails with ErrMP3Unsupported.
package prompt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"kontakt/ivr"
)

// ErrMP3Unsupported: the machine's sox cannot read MP3.
var ErrMP3Unsupported = errors.New("sox on this machine cannot read MP3 (Debian: install libsox-fmt-mp3); upload the recording as WAV or OGG instead")

// DefaultVoices are the espeak-ng voices for each language.
var DefaultVoices = map[ivr.Lang]string{ivr.LangPL: "pl", ivr.LangEN: "en", ivr.LangUK: "uk"}

// The output format: what Asterisk plays without transcoding from a .wav.
var outFormat = []string{"-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"}

// effects applied to every output: the same loudness for speech and uploads.
var effects = []string{"norm", "-3"}

// Renderer renders prompts into Dir. Its zero value is not usable: use New.
type Renderer struct {
	dir      string
	audioDir string
	espeak   string
	sox      string
	voices   map[ivr.Lang]string
	speed    int

	espeakVersion string
	soxVersion    string
	soxFormats    map[string]bool
}

// Options configure a Renderer. Zero values take the defaults.
type Options struct {
	// AudioDir is where uploaded recordings named in menus (PromptItem.Audio) are found.
	AudioDir string
	// Espeak and Sox are the programs ("espeak-ng" and "sox" on the PATH by default).
	Espeak, Sox string
	// Voices maps a language to an espeak-ng voice (DefaultVoices).
	Voices map[ivr.Lang]string
	// Speed in words per minute (espeak-ng -s; default 150, a little slower than espeak's 175:
	// easier to follow on a phone line).
	Speed int
}

// New checks that espeak-ng and sox run and have what is needed, creates dir (the cache), and
// returns a Renderer writing there.
func New(ctx context.Context, dir string, o Options) (*Renderer, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("prompt cache: %w", err)
	}
	r := &Renderer{dir: abs, audioDir: o.AudioDir, espeak: o.Espeak, sox: o.Sox, voices: o.Voices, speed: o.Speed}
	if r.espeak == "" {
		r.espeak = "espeak-ng"
	}
	if r.sox == "" {
		r.sox = "sox"
	}
	if r.voices == nil {
		r.voices = DefaultVoices
	}
	if r.speed == 0 {
		r.speed = 150
	}
	if r.espeak, err = exec.LookPath(r.espeak); err != nil {
		return nil, fmt.Errorf("espeak-ng is needed to render prompts (Debian package espeak-ng): %w", err)
	}
	if r.sox, err = exec.LookPath(r.sox); err != nil {
		return nil, fmt.Errorf("sox is needed to render prompts (Debian package sox): %w", err)
	}
	out, err := run(ctx, nil, r.espeak, "--version")
	if err != nil {
		return nil, err
	}
	r.espeakVersion, _, _ = strings.Cut(strings.TrimSpace(string(out)), "  Data at")
	for _, l := range ivr.SupportedLangs {
		v := r.voices[l]
		// -q: synthesise without sound output; an unknown voice fails
		if _, err := run(ctx, nil, r.espeak, "-q", "-v", v, "test"); v == "" || err != nil {
			return nil, fmt.Errorf("espeak-ng has no voice %q for %s (see espeak-ng --voices): %v", v, ivr.LangName(l), err)
		}
	}
	out, err = run(ctx, nil, r.sox, "--version")
	if err != nil {
		return nil, err
	}
	r.soxVersion = strings.TrimSpace(string(out))
	// `sox -h` exits 0 and lists the file formats it can read on one line
	out, err = run(ctx, nil, r.sox, "-h")
	if err != nil {
		return nil, err
	}
	r.soxFormats = map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutPrefix(line, "AUDIO FILE FORMATS:"); ok {
			for _, name := range strings.Fields(f) {
				r.soxFormats[name] = true
			}
		}
	}
	if !r.soxFormats["wav"] {
		return nil, fmt.Errorf("%s cannot write WAV files", r.sox)
	}
	return r, nil
}

// CanReadMP3 reports whether the machine's sox reads MP3.
func (r *Renderer) CanReadMP3() bool { return r.soxFormats["mp3"] }

// Dir is the cache directory (absolute).
func (r *Renderer) Dir() string { return r.dir }

// SoundURI is the ARI media URI of a rendered file: sound:/abs/path without the .wav.
func SoundURI(path string) string { return "sound:" + strings.TrimSuffix(path, ".wav") }

func run(ctx context.Context, stdin io.Reader, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\x00", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > 44
}

// produce makes path with make(tmpDir, out) unless it exists, writing into a temporary
// directory first and renaming, so that a file in the cache is always whole.
func (r *Renderer) produce(path string, make func(tmp, out string) error) (string, error) {
	if exists(path) {
		return path, nil
	}
	tmp, err := os.MkdirTemp(r.dir, ".render-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out.wav")
	if err := make(tmp, out); err != nil {
		return "", err
	}
	if !exists(out) {
		return "", fmt.Errorf("rendering produced no audio")
	}
	if err := os.Rename(out, path); err != nil {
		return "", err
	}
	return path, nil
}

// Render speaks text in lang and returns the absolute path of the WAV file (cached by a hash
// of the espeak-ng version, the voice, the speed and the text).
func (r *Renderer) Render(ctx context.Context, lang ivr.Lang, text string) (string, error) {
	voice := r.voices[lang]
	if voice == "" {
		return "", fmt.Errorf("no voice for language %q", lang)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", errors.New("no text to speak")
	}
	speed := fmt.Sprint(r.speed)
	key := hash("tts", r.espeakVersion, r.soxVersion, voice, speed, strings.Join(outFormat, " "), strings.Join(effects, " "), text)
	return r.produce(filepath.Join(r.dir, "tts-"+key+".wav"), func(tmp, out string) error {
		raw := filepath.Join(tmp, "speech.wav")
		// the text goes on standard input: it can never be taken for an option
		if _, err := run(ctx, strings.NewReader(text), r.espeak, "-v", voice, "-s", speed, "-b", "1", "-w", raw); err != nil {
			return err
		}
		_, err := run(ctx, nil, r.sox, append(append([]string{raw}, append(outFormat, out)...), effects...)...)
		return err
	})
}

// Convert turns an uploaded recording (a name relative to Options.AudioDir, ending in .wav,
// .mp3 or .ogg) into the telephone format and returns the absolute path of the WAV file
// (cached by a hash of the recording's bytes and the sox version).
func (r *Renderer) Convert(ctx context.Context, ref string) (string, error) {
	if r.audioDir == "" {
		return "", errors.New("no directory for uploaded recordings is configured")
	}
	if !filepath.IsLocal(ref) {
		return "", fmt.Errorf("%q is not a name inside the recordings directory", ref)
	}
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(ref), "."))
	typ := ext
	switch ext {
	case "wav":
	case "ogg":
		if !r.soxFormats["ogg"] && !r.soxFormats["vorbis"] {
			return "", fmt.Errorf("%s: sox on this machine cannot read OGG (Debian: install libsox-fmt-all)", ref)
		}
		typ = "ogg"
	case "mp3":
		if !r.soxFormats["mp3"] {
			return "", fmt.Errorf("%s: %w", ref, ErrMP3Unsupported)
		}
	default:
		return "", fmt.Errorf("%s: only WAV, MP3 and OGG recordings can be used", ref)
	}
	src := filepath.Join(r.audioDir, ref)
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("uploaded recording: %w", err)
	}
	key := hash("audio", r.soxVersion, strings.Join(outFormat, " "), strings.Join(effects, " "), string(data))
	return r.produce(filepath.Join(r.dir, "audio-"+key+".wav"), func(tmp, out string) error {
		_, err := run(ctx, nil, r.sox, append(append([]string{"-t", typ, src}, append(outFormat, out)...), effects...)...)
		if err != nil {
			return fmt.Errorf("%s is not a recording sox can read: %w", ref, err)
		}
		return nil
	})
}

// RenderMenu renders every prompt of m that can be rendered ahead of time (all but ticket
// status answers) and returns the file of each, by key. It renders everything it can and
// reports every prompt that failed, at once.
func (r *Renderer) RenderMenu(ctx context.Context, m *ivr.Menu) (map[ivr.PromptKey]string, error) {
	prompts := m.Prompts()
	out := make(map[ivr.PromptKey]string, len(prompts))
	errs := make([]error, len(prompts))
	paths := make([]string, len(prompts))
	// the same text in the same language (a shared "connecting you" prompt) is rendered once
	type job struct {
		item ivr.PromptItem
		lang ivr.Lang
	}
	first := map[job]int{}
	var todo []int
	for i, p := range prompts {
		j := job{p.Item, p.Lang}
		if p.Item.Audio != "" {
			j.lang = ""
		}
		if _, dup := first[j]; !dup {
			first[j] = i
			todo = append(todo, i)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for _, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			p := prompts[i]
			if p.Item.Audio != "" {
				paths[i], errs[i] = r.Convert(ctx, p.Item.Audio)
			} else {
				paths[i], errs[i] = r.Render(ctx, p.Lang, p.Item.Text)
			}
		}(i)
	}
	wg.Wait()
	var all []error
	for i, p := range prompts {
		j := job{p.Item, p.Lang}
		if p.Item.Audio != "" {
			j.lang = ""
		}
		f := first[j]
		if errs[f] != nil {
			if f == i {
				all = append(all, fmt.Errorf("%s: %w", p.Key, errs[f]))
			}
			continue
		}
		out[p.Key] = paths[f]
	}
	return out, errors.Join(all...)
}
