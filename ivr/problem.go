package ivr

import (
	"fmt"
	"strings"
)

// Code is the stable identifier of a kind of problem in a menu document. Codes never change
// meaning; the admin UI may key help texts on them.
type Code string

const (
	// decoding
	CodeSyntax       Code = "syntax"        // not valid JSON
	CodeTooLarge     Code = "too_large"     // document over MaxDocumentSize
	CodeUnknownField Code = "unknown_field" // a field this place does not have
	CodeWrongType    Code = "wrong_type"    // e.g. a number where text is expected
	CodeDuplicateKey Code = "duplicate_key" // the same field twice in one object
	CodeMissingField Code = "missing_field" // a required field is absent or empty
	CodeBadValue     Code = "bad_value"     // a value out of its allowed set or range
	CodeUnknownKind  Code = "unknown_kind"  // node kind not known
	CodeBadNodeID    Code = "bad_node_id"   // node id with characters other than a-z 0-9 _ -

	// structure
	CodeDanglingReference Code = "dangling_reference" // points to a node that does not exist
	CodeUnreachableNode   Code = "unreachable_node"   // no caller can ever get there
	CodeLoopWithoutInput  Code = "loop_without_input" // nodes that send the call round forever without waiting for a key
	CodeLoopWithoutExit   Code = "loop_without_exit"  // a part of the menu no caller can leave except by hanging up
	CodeDuplicateDigit    Code = "duplicate_digit"    // the same key used twice in one node
	CodeBadDigit          Code = "bad_digit"          // not one of 0-9 * #, or not allowed here
	CodeBadTimeout        Code = "bad_timeout"        // a timeout outside its sensible range
	CodeBadRange          Code = "bad_range"          // min/max digits that do not fit
	CodeUnknownVariable   Code = "unknown_variable"   // number_from names nothing a collect node fills

	// prompts and languages
	CodeMissingPrompt   Code = "missing_prompt"   // no prompt for a language the menu declares
	CodeBadPrompt       Code = "bad_prompt"       // both or neither of text and audio, or a bad audio reference
	CodeBadPlaceholder  Code = "bad_placeholder"  // {something} that is not a known placeholder
	CodeUnknownLanguage Code = "unknown_language" // a language Kontakt has no voice for, or the menu does not declare

	// routing
	CodeUnknownQueue Code = "unknown_queue" // queue id not in the catalog
	CodeUnknownSkill Code = "unknown_skill" // skill not in the catalog

	// hours
	CodeBadTime          Code = "bad_time"          // not HH:MM, or from not before to
	CodeBadDate          Code = "bad_date"          // not YYYY-MM-DD
	CodeBadDay           Code = "bad_day"           // not mon..sun
	CodeScheduleOverlap  Code = "schedule_overlap"  // two opening windows cover the same time
	CodeDuplicateHoliday Code = "duplicate_holiday" // the same date twice
)

// Problem is one thing wrong with a menu document, located by its path in the document
// ("nodes.topics.options.3"; "$" is the document itself) and, for problems found while
// reading the JSON, its line and column.
type Problem struct {
	Path    string `json:"path"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d, column %d): %s [%s]", p.Path, p.Line, p.Column, p.Message, p.Code)
	}
	return fmt.Sprintf("%s: %s [%s]", p.Path, p.Message, p.Code)
}

// Problems is every problem found in a document. A nil Problems means none; as an error it
// lists them all, one a line.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Has reports whether a problem with this code was found at this path.
func (ps Problems) Has(path string, code Code) bool {
	for _, p := range ps {
		if p.Path == path && p.Code == code {
			return true
		}
	}
	return false
}

type problems struct{ list Problems }

func (p *problems) add(path string, code Code, format string, args ...any) {
	if path == "" {
		path = "$"
	}
	p.list = append(p.list, Problem{Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

func join(path, field string) string {
	if path == "" || path == "$" {
		return field
	}
	return path + "." + field
}

func index(path string, i int) string { return fmt.Sprintf("%s.%d", path, i) }
