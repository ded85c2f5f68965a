package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fuzzSeeds are malformed frames added to the golden files as the seed corpus.
var fuzzSeeds = []string{
	``, `{}`, `null`, `[]`, `"x"`, `{"v":1}`, `{"v":1,"type":"ping"}`,
	`{"v":1,"type":"ping","id":"a","data":{"x":[{"y":null}]}}`,
	`{"v":1e400,"type":"ping","id":"a"}`,
	`{"v":1,"type":"call.dtmf","id":"a","data":{"call_id":"c","digits":"1\u0000"}}`,
	`{"v":1,"type":"state.set","id":"a","data":{"state":"paused","reason":"x","reason":"y"}}`,
	`{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c","update":{"kind":"information","category":"x","articles":[1]}}}`,
	`{"v":1,"type":"webrtc.candidate","id":"a","data":{"candidate":"c","sdpMLineIndex":-1}}`,
	"{\"v\":1,\"type\":\"ping\",\"id\":\"\xc3\"}",
}

// FuzzDecode: Decode never panics; it returns either a valid envelope that encodes and decodes
// back to itself, or an *Error with a known code. The committed corpus is in
// testdata/fuzz/FuzzDecode (go test -update rewrites it from the golden files and fuzzSeeds).
func FuzzDecode(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	codes := Codes()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, decode := range []func([]byte) (Envelope, error){Decode, DecodeServer} {
			env, err := decode(b)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if !slices.Contains(codes, e.Code) || e.Message == "" {
					t.Fatalf("error without a known code or a message: %#v", e)
				}
				continue
			}
			if env.Data == nil || env.Type != env.Data.Type() || env.V != Version {
				t.Fatalf("inconsistent envelope %#v", env)
			}
			out, err := Encode(env)
			if err != nil {
				t.Fatalf("decoded envelope does not encode: %v", err)
			}
			again, err := decode(out)
			if err != nil {
				t.Fatalf("re-encoded frame does not decode: %v\n%s", err, out)
			}
			out2, _ := Encode(again)
			if !bytes.Equal(out, out2) {
				t.Fatalf("not stable:\n%s\n%s", out, out2)
			}
		}
	})
}

// TestWriteFuzzCorpus keeps testdata/fuzz/FuzzDecode in step with the seeds (with -update).
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if !*update {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("no committed fuzz corpus in %s (go test -update writes it): %v", dir, err)
		}
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, g := range golden {
		b, _ := os.ReadFile(g)
		write("golden-"+filepath.Base(g[:len(g)-5]), b)
	}
	for i, s := range fuzzSeeds {
		write(fmt.Sprintf("seed-%02d", i), []byte(s))
	}
}
