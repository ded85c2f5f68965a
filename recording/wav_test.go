package recording

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestReadWAVOfSoxFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		seconds  float64
		format   []string
		codec    string
		rate     int
		channels int
		want     time.Duration
	}{
		{"asterisk wav: 8 kHz 16-bit mono", 2, []string{"-b", "16"}, "pcm_s16le", 8000, 1, 2 * time.Second},
		{"one minute", 60, []string{"-b", "16"}, "pcm_s16le", 8000, 1, time.Minute},
		{"µ-law", 1.5, []string{"-e", "u-law"}, "pcm_mulaw", 8000, 1, 1500 * time.Millisecond},
		{"A-law", 0.25, []string{"-e", "a-law"}, "pcm_alaw", 8000, 1, 250 * time.Millisecond},
		{"GSM 6.10 (wav49)", 1, []string{"-e", "gsm-full-rate"}, "gsm_ms", 8000, 1, time.Second},
		{"16 kHz stereo 24-bit", 0.5, []string{"-r", "16000", "-c", "2", "-b", "24"}, "pcm_s24le", 16000, 2, 500 * time.Millisecond},
		{"float", 0.1, []string{"-e", "floating-point", "-b", "32"}, "pcm_f32le", 8000, 1, 100 * time.Millisecond},
		{"8-bit", 0.3, []string{"-b", "8"}, "pcm_u8", 8000, 1, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sox(t, filepath.Join(dir, tc.name+".wav"), tc.seconds, tc.format...)
			info := readWAVPath(t, p)
			if info.Codec() != tc.codec || info.SampleRate != tc.rate || info.Channels != tc.channels || info.Unterminated {
				t.Errorf("%+v (codec %s)", info, info.Codec())
			}
			if d := info.Duration(); d != tc.want {
				t.Errorf("duration %s, want %s", d, tc.want)
			}
		})
	}
}

func readWAVPath(t *testing.T, p string) WAVInfo {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ReadWAV(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// wav builds a WAV file: a RIFF header, the chunks given, and sizes as given (riff < 0: computed).
func wav(riff int64, chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	if riff < 0 {
		riff = int64(len(body) + 4)
	}
	binary.Write(&b, binary.LittleEndian, uint32(riff))
	b.WriteString("WAVE")
	b.Write(body)
	return b.Bytes()
}

func chunk(id string, size int64, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(id)
	if size < 0 {
		size = int64(len(body))
	}
	binary.Write(&b, binary.LittleEndian, uint32(size))
	b.Write(body)
	if len(body)%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func fmtBody(format, channels uint16, rate, byteRate uint32, align, bits uint16, extra ...byte) []byte {
	var b bytes.Buffer
	for _, v := range []any{format, channels, rate, byteRate, align, bits} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.Write(extra)
	return b.Bytes()
}

var pcm8k = fmtBody(1, 1, 8000, 16000, 2, 16)

func TestReadWAVHeaders(t *testing.T) {
	audio := make([]byte, 8000)                                         // half a second of 8 kHz 16-bit mono
	cutShort := append([]byte("data\x00\x7d\x00\x00"), audio[:1001]...) // says 32000 bytes, holds 500.5 frames
	extensible := fmtBody(0xFFFE, 1, 8000, 16000, 2, 16,
		append([]byte{22, 0, 16, 0, 0, 0, 0, 0, 1, 0}, ksdataformatSuffix[:]...)...)
	badGUID := bytes.Clone(extensible)
	badGUID[len(badGUID)-1] ^= 0xFF
	for _, tc := range []struct {
		name  string
		file  []byte
		want  string // error substring, or "" for success
		bytes int64
		dur   time.Duration
		unter bool
	}{
		{"plain", wav(-1, chunk("fmt ", -1, pcm8k), chunk("data", -1, audio)), "", 8000, 500 * time.Millisecond, false},
		{"chunks before and after data", wav(-1, chunk("LIST", -1, []byte("INFOISFT\x03\x00\x00\x00abc")), chunk("fmt ", -1, pcm8k),
			chunk("fact", -1, []byte{1, 2, 3, 4}), chunk("data", -1, audio), chunk("LIST", -1, []byte("x"))), "", 8000, 500 * time.Millisecond, false},
		{"odd-sized chunk is padded", wav(-1, chunk("junk", -1, []byte("abc")), chunk("fmt ", -1, pcm8k), chunk("data", -1, audio)), "", 8000, 500 * time.Millisecond, false},
		{"extensible", wav(-1, chunk("fmt ", -1, extensible), chunk("data", -1, audio)), "", 8000, 500 * time.Millisecond, false},
		{"sizes never written", wav(0, chunk("fmt ", -1, pcm8k), chunk("data", 0, audio)), "", 8000, 500 * time.Millisecond, true},
		{"streaming sizes", wav(0xFFFFFFFF, chunk("fmt ", -1, pcm8k), chunk("data", 0xFFFFFFFF, audio)), "", 8000, 500 * time.Millisecond, true},
		{"cut short, half a frame", wav(-1, chunk("fmt ", -1, pcm8k), cutShort), "", 1000, 62500 * time.Microsecond, true},
		{"empty data", wav(-1, chunk("fmt ", -1, pcm8k), chunk("data", -1, nil)), "", 0, 0, false},
		{"empty file", nil, "too short", 0, 0, false},
		{"not RIFF", append([]byte("RIFX"), wav(-1, chunk("fmt ", -1, pcm8k))[4:]...), "signature", 0, 0, false},
		{"no fmt", wav(-1, chunk("data", -1, audio)), "data chunk before the fmt chunk", 0, 0, false},
		{"no data", wav(-1, chunk("fmt ", -1, pcm8k)), "no data chunk", 0, 0, false},
		{"nothing", wav(-1), "no fmt chunk", 0, 0, false},
		{"short fmt", wav(-1, chunk("fmt ", -1, pcm8k[:14]), chunk("data", -1, audio)), "fmt chunk of 14 bytes", 0, 0, false},
		{"fmt overruns", wav(-1, chunk("fmt ", 400, pcm8k)), "overruns", 0, 0, false},
		{"two fmt", wav(-1, chunk("fmt ", -1, pcm8k), chunk("fmt ", -1, pcm8k), chunk("data", -1, audio)), "two fmt", 0, 0, false},
		{"zero channels", wav(-1, chunk("fmt ", -1, fmtBody(1, 0, 8000, 16000, 2, 16)), chunk("data", -1, audio)), "0 channels", 0, 0, false},
		{"zero rate", wav(-1, chunk("fmt ", -1, fmtBody(1, 1, 0, 16000, 2, 16)), chunk("data", -1, audio)), "sample rate 0", 0, 0, false},
		{"wrong block align", wav(-1, chunk("fmt ", -1, fmtBody(1, 1, 8000, 16000, 4, 16)), chunk("data", -1, audio)), "block align 4", 0, 0, false},
		{"wrong byte rate", wav(-1, chunk("fmt ", -1, fmtBody(1, 1, 8000, 8000, 2, 16)), chunk("data", -1, audio)), "byte rate 8000", 0, 0, false},
		{"12-bit PCM", wav(-1, chunk("fmt ", -1, fmtBody(1, 1, 8000, 16000, 2, 12)), chunk("data", -1, audio)), "12 bits", 0, 0, false},
		{"format 0", wav(-1, chunk("fmt ", -1, fmtBody(0, 1, 8000, 16000, 2, 16)), chunk("data", -1, audio)), "format tag 0", 0, 0, false},
		{"unknown extensible GUID", wav(-1, chunk("fmt ", -1, badGUID), chunk("data", -1, audio)), "GUID", 0, 0, false},
		{"too many chunks", wav(-1, bytes.Repeat(chunk("junk", -1, nil), maxChunks+1)), "first 64 chunks", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := ReadWAV(bytes.NewReader(tc.file), int64(len(tc.file)))
			if tc.want != "" {
				if err == nil || !errors.Is(err, ErrNotWAV) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
					t.Fatalf("error %v, want one saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.DataBytes != tc.bytes || info.Duration() != tc.dur || info.Unterminated != tc.unter {
				t.Errorf("bytes %d duration %s unterminated %v, want %d %s %v", info.DataBytes, info.Duration(), info.Unterminated,
					tc.bytes, tc.dur, tc.unter)
			}
		})
	}
}

func FuzzReadWAV(f *testing.F) {
	// The committed corpus (testdata/fuzz/FuzzReadWAV) holds short sox files of every format and
	// the hand-made headers of TestReadWAVHeaders.
	f.Add(wav(-1, chunk("fmt ", -1, pcm8k), chunk("data", -1, make([]byte, 64))))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ReadWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) {
				t.Fatalf("error not wrapping ErrNotWAV: %v", err)
			}
			return
		}
		if info.DataOffset < 20 || info.DataBytes < 0 || info.DataOffset+info.DataBytes > int64(len(b)) {
			t.Fatalf("data [%d, +%d) outside a file of %d bytes", info.DataOffset, info.DataBytes, len(b))
		}
		if info.Unterminated && info.DataBytes%int64(info.BlockAlign) != 0 {
			t.Fatalf("unterminated data of %d bytes is not whole blocks of %d", info.DataBytes, info.BlockAlign)
		}
		if d := info.Duration(); d < 0 {
			t.Fatalf("negative duration %s", d)
		}
		if info.Codec() == "" || info.Channels < 1 || info.SampleRate < 1 {
			t.Fatalf("accepted %+v", info)
		}
	})
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed files of testdata/fuzz/FuzzReadWAV (needs sox)")

// TestWriteWAVCorpus writes FuzzReadWAV's seed corpus (go test -run WAVCorpus -update-corpus).
func TestWriteWAVCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReadWAV")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	seeds := map[string][]byte{}
	for name, format := range map[string][]string{
		"s16": {"-b", "16"}, "ulaw": {"-e", "u-law"}, "alaw": {"-e", "a-law"}, "gsm": {"-e", "gsm-full-rate"},
		"s24-stereo": {"-c", "2", "-b", "24"}, "f32": {"-e", "floating-point", "-b", "32"}, "u8": {"-b", "8"},
	} {
		b, err := os.ReadFile(sox(t, filepath.Join(tmp, name+".wav"), 0.005, format...))
		if err != nil {
			t.Fatal(err)
		}
		seeds["sox-"+name] = b
	}
	audio := make([]byte, 40)
	extensible := fmtBody(0xFFFE, 1, 8000, 16000, 2, 16, append([]byte{22, 0, 16, 0, 0, 0, 0, 0, 1, 0}, ksdataformatSuffix[:]...)...)
	seeds["hand-extensible"] = wav(-1, chunk("fmt ", -1, extensible), chunk("data", -1, audio))
	seeds["hand-unterminated"] = wav(0, chunk("fmt ", -1, pcm8k), chunk("data", 0, audio))
	seeds["hand-streaming"] = wav(0xFFFFFFFF, chunk("fmt ", -1, pcm8k), chunk("data", 0xFFFFFFFF, audio))
	seeds["hand-cut-short"] = wav(-1, chunk("fmt ", -1, pcm8k), chunk("data", 4000, audio[:21]))
	seeds["hand-list-first"] = wav(-1, chunk("LIST", -1, []byte("INFOabc")), chunk("fmt ", -1, pcm8k), chunk("data", -1, audio))
	seeds["hand-data-before-fmt"] = wav(-1, chunk("data", -1, audio), chunk("fmt ", -1, pcm8k))
	seeds["hand-fmt-overrun"] = wav(-1, chunk("fmt ", 0xFFFFFFF0, pcm8k))
	for name, b := range seeds {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %d seeds to %s\n", len(seeds), dir)
}
