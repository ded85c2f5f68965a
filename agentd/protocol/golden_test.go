package protocol

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and the fuzz seed corpus")

func decodeAny(b []byte, t Type) (Envelope, error) {
	if DirectionOf(t)&ToServer != 0 {
		return Decode(b)
	}
	return DecodeServer(b)
}

func goldenName(t Type) string { return filepath.Join("testdata", "golden", string(t)+".json") }

// TestGolden encodes the example of every message type and compares it with its golden file, then
// decodes the golden file and checks it encodes back to the same bytes.
func TestGolden(t *testing.T) {
	for _, typ := range Types() {
		t.Run(string(typ), func(t *testing.T) {
			env, ok := examples[typ]
			if !ok {
				t.Fatalf("no example for %s in examples_test.go", typ)
			}
			b, err := Encode(env)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			name := goldenName(typ)
			if *update {
				if err := os.WriteFile(name, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s differs from the encoding (go test -update rewrites it):\n--- got\n%s--- want\n%s", name, pretty.Bytes(), want)
			}
			got, err := decodeAny(want, typ)
			if err != nil {
				t.Fatalf("decoding %s: %v", name, err)
			}
			again, err := Encode(got)
			if err != nil {
				t.Fatalf("re-encoding: %v", err)
			}
			if !bytes.Equal(again, b) {
				t.Errorf("round trip changed the message:\n%s\n%s", again, b)
			}
		})
	}
	// No stale golden files for types that no longer exist.
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, f := range files {
		typ := Type(strings.TrimSuffix(filepath.Base(f), ".json"))
		if DirectionOf(typ) == 0 {
			t.Errorf("%s is the golden file of no message type", f)
		}
	}
}
