package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// The menu decoder first reads the document into a tree that keeps each value's offset and
// each object's keys in order (with duplicates), then maps the tree onto the Go types by hand.
// That way every problem (unknown field, wrong type, duplicate key) is reported with its path
// and position, and all of them at once, which encoding/json's first-error decoding cannot do.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	return [...]string{"null", "true or false", "a number", "text", "a list", "an object"}[k]
}

type jval struct {
	kind jkind
	off  int
	b    bool
	num  json.Number
	str  string
	arr  []*jval
	obj  []jmember
}

type jmember struct {
	key string
	off int
	val *jval
}

// MaxDocumentSize is the largest menu document accepted (1 MiB).
const MaxDocumentSize = 1 << 20

// maxDepth bounds nesting; a menu is at most ~6 levels deep.
const maxDepth = 64

type treeReader struct {
	data []byte
	dec  *json.Decoder
	prob *problems
	line lineIndex
}

type lineIndex []int // offsets of line starts

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

func (li lineIndex) pos(off int) (line, col int) {
	lo, hi := 0, len(li)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if li[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, off - li[lo] + 1
}

var errTooDeep = errors.New("nested too deeply")

// parseTree reads data into a tree. On a syntax error it returns nil and the problem, located
// at the innermost object or list being read.
func parseTree(data []byte, p *problems) *jval {
	if len(data) > MaxDocumentSize {
		p.list = append(p.list, Problem{Path: "$", Code: CodeTooLarge,
			Message: "the document is larger than 1 MiB"})
		return nil
	}
	r := &treeReader{data: data, dec: json.NewDecoder(bytes.NewReader(data)), prob: p, line: newLineIndex(data)}
	r.dec.UseNumber()
	path := []string{}
	v, err := r.value(&path, 0)
	if err == nil {
		off := r.tokenStart()
		if _, err2 := r.dec.Token(); err2 != io.EOF {
			r.fail("$", off, "there is more after the end of the document")
			return nil
		}
		return v
	}
	where := "$"
	if len(path) > 0 {
		where = joinPath(path)
		if v := bytes.TrimSpace(data); len(v) > 0 && v[0] == '[' {
			where = "$." + where // not an object at the top: say where the list is
		}
	}
	var se *json.SyntaxError
	off := int(r.dec.InputOffset())
	msg := "the document is not valid JSON"
	switch {
	case errors.As(err, &se):
		off = int(se.Offset) // the offending byte's offset
		msg = "not valid JSON: " + se.Error()
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		off = len(data)
		if len(bytes.TrimSpace(data)) == 0 {
			msg = "the document is empty"
		} else {
			msg = "the document ends too early (a missing } or ] or \"?)"
		}
	case err == errTooDeep:
		msg = "the document is nested too deeply"
	default:
		msg = "not valid JSON: " + err.Error()
	}
	r.fail(where, off, "%s", msg)
	return nil
}

func joinPath(parts []string) string {
	var b bytes.Buffer
	for i, s := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func (r *treeReader) fail(path string, off int, format string, args ...any) {
	r.prob.add(path, CodeSyntax, format, args...)
	pr := &r.prob.list[len(r.prob.list)-1]
	pr.Line, pr.Column = r.line.pos(off)
}

func (r *treeReader) skipSpace(off int) int {
	for off < len(r.data) {
		switch r.data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// tokenStart is where the next token begins.
func (r *treeReader) tokenStart() int { return r.skipSpace(int(r.dec.InputOffset())) }

func (r *treeReader) value(path *[]string, depth int) (*jval, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	off := r.tokenStart()
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	v := &jval{off: off}
	switch t := tok.(type) {
	case nil:
		v.kind = jNull
	case bool:
		v.kind, v.b = jBool, t
	case json.Number:
		v.kind, v.num = jNumber, t
	case string:
		v.kind, v.str = jString, t
	case json.Delim:
		switch t {
		case '[':
			v.kind = jArray
			for i := 0; r.dec.More(); i++ {
				*path = append(*path, strconv.Itoa(i))
				e, err := r.value(path, depth+1)
				if err != nil {
					return nil, err
				}
				*path = (*path)[:len(*path)-1]
				v.arr = append(v.arr, e)
			}
		case '{':
			v.kind = jObject
			for r.dec.More() {
				koff := r.tokenStart()
				kt, err := r.dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				*path = append(*path, key)
				e, err := r.value(path, depth+1)
				if err != nil {
					return nil, err
				}
				*path = (*path)[:len(*path)-1]
				v.obj = append(v.obj, jmember{key: key, off: koff, val: e})
			}
		}
		if _, err := r.dec.Token(); err != nil { // closing delimiter
			return nil, err
		}
	}
	return v, nil
}
