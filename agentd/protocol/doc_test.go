package protocol

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// docExamples returns the ```json blocks of PROTOCOL.md with their line numbers.
func docExamples(t *testing.T) (blocks []string, lines []int, doc string) {
	t.Helper()
	b, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	doc = string(b)
	sc := bufio.NewScanner(strings.NewReader(doc))
	var cur *strings.Builder
	start := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```json":
			cur, start = &strings.Builder{}, n
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks, lines = append(blocks, cur.String()), append(lines, start)
			cur = nil
		case cur != nil:
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	if cur != nil {
		t.Fatalf("PROTOCOL.md:%d: unclosed code block", start)
	}
	return blocks, lines, doc
}

// TestProtocolDocument keeps PROTOCOL.md true: every JSON example decodes as a client or a
// server message, every message type has an example, every error and close code is described.
func TestProtocolDocument(t *testing.T) {
	blocks, lines, doc := docExamples(t)
	if len(blocks) == 0 {
		t.Fatal("no ```json examples in PROTOCOL.md")
	}
	seen, headed := map[Type]bool{}, map[Type]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			for _, name := range strings.Split(h, ", ") {
				headed[Type(name)] = true
			}
		}
	}
	for i, block := range blocks {
		b := []byte(strings.TrimSpace(block))
		env, err := Decode(b)
		if err != nil {
			var serr error
			env, serr = DecodeServer(b)
			if serr != nil {
				t.Errorf("PROTOCOL.md:%d: example decodes neither as a client message (%v) nor as a server message (%v)", lines[i], err, serr)
				continue
			}
		}
		seen[env.Type] = true
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("PROTOCOL.md has no example of %q", typ)
		}
		if !headed[typ] {
			t.Errorf("PROTOCOL.md has no ### heading naming %q", typ)
		}
	}
	for _, c := range Codes() {
		if !strings.Contains(doc, "| `"+string(c)+"` |") {
			t.Errorf("PROTOCOL.md's error table lacks %q", c)
		}
	}
	for _, c := range CloseCodes() {
		if !strings.Contains(doc, "| "+strconv.Itoa(c)+" |") {
			t.Errorf("PROTOCOL.md's close-code table lacks %d", c)
		}
	}
}
