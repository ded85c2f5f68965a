// Package textpl normalises Polish text for the knowledge-base search: lower case, diacritics
// folded (ą→a, ł→l, ż→z, ...), split into words, stop words dropped, and each word cut to a light
// stem so that inflected forms meet (dowód, dowodu, dowodem → dowod).
//
// The integrator stores and queries the output in Postgres with the simple text-search
// configuration, which only lower-cases and splits, so all Polish knowledge lives here:
//
//	-- indexing (title and keywords weighted above the body):
//	setweight(to_tsvector('simple', $title_doc), 'A') || setweight(to_tsvector('simple', $body_doc), 'C')
//	   with $title_doc = textpl.Document(title), $body_doc = textpl.Document(body)
//	-- searching:
//	WHERE search @@ to_tsquery('simple', $1)        with $1 = textpl.Query(q); QueryAny(q) as a fallback
//	-- typos (pg_trgm), on a column holding textpl.Keywords(title):
//	similarity(title_keywords, $2) / title_keywords % $2   with $2 = textpl.Keywords(q)
//
// Everything is pure and deterministic; the same function must be used on both sides.
package textpl

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold maps a lower-case letter with a diacritic to its plain Latin spelling: Polish first, then
// the other Latin letters residents' names and foreign words bring in. Letters of other scripts
// (Ukrainian, for one) are kept as they are, lower-cased.
var fold = func() map[rune]string {
	m := map[rune]string{}
	for _, row := range []struct{ from, to string }{
		// Polish.
		{"ą", "a"}, {"ć", "c"}, {"ę", "e"}, {"ł", "l"}, {"ń", "n"}, {"ó", "o"}, {"ś", "s"}, {"ź", "z"}, {"ż", "z"},
		// Latin-1 and Latin Extended-A.
		{"àáâãäåāă", "a"}, {"æ", "ae"}, {"çčĉċ", "c"}, {"ďđð", "d"}, {"èéêëēěėĕ", "e"}, {"ğĝġģ", "g"},
		{"ĥħ", "h"}, {"ìíîïīįĩĭı", "i"}, {"ĵ", "j"}, {"ķ", "k"}, {"ĺľļŀ", "l"}, {"ñňņŉ", "n"},
		{"òôõöøōőŏ", "o"}, {"œ", "oe"}, {"ŕřŗ", "r"}, {"šşŝș", "s"}, {"ß", "ss"}, {"ťţŧț", "t"},
		{"þ", "th"}, {"ùúûüūůűųũŭ", "u"}, {"ŵ", "w"}, {"ýÿŷ", "y"}, {"žż", "z"},
	} {
		for _, r := range row.from {
			m[r] = row.to
		}
	}
	return m
}()

// Normalize lower-cases s, folds diacritics, and turns every run of characters that are neither
// letters nor digits into one space, with none at either end: "Dowód  osobisty – wydanie!" →
// "dowod osobisty wydanie". Combining marks are dropped, so decomposed input (e + U+0328) folds
// like precomposed (ę); invalid UTF-8 counts as a separator. Normalize(Normalize(s)) ==
// Normalize(s).
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false // a separator is due before the next word
	for _, r := range s {
		word := ""
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			if unicode.Is(unicode.Mn, r) {
				continue
			}
			r = unicode.ToLower(r)
			word = fold[r]
		}
		if word == "" && (r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r)) {
			pending = b.Len() > 0
			continue
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		if word != "" {
			b.WriteString(word)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Tokens is Normalize(s) split into words.
func Tokens(s string) []string {
	return strings.Fields(Normalize(s))
}

// maxTermLen bounds a term, in bytes: longer "words" are noise (pasted identifiers, base64) and
// Postgres refuses lexemes over 2047 bytes.
const maxTermLen = 64

// Terms are the search terms of s: its words without stop words and single letters, each cut to
// its stem, in order, repeats kept (they count in ranking).
func Terms(s string) []string {
	var out []string
	for _, w := range Tokens(s) {
		if len(w) > maxTermLen || IsStopWord(w) || singleLetter(w) {
			continue
		}
		out = append(out, Stem(w))
	}
	return out
}

func singleLetter(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	return n == len(w) && !unicode.IsDigit(r)
}

// Document is the text to index: the terms of s joined by spaces, for to_tsvector('simple', …).
func Document(s string) string {
	return strings.Join(Terms(s), " ")
}

// Query is a to_tsquery('simple', …) expression matching texts that contain every term of s;
// the last term also matches as a prefix, for a query typed as you search ("dowód osob" finds
// "dowód osobisty"). It is "" when s has no terms: search for nothing then. Terms are letters and
// digits only, so the expression is always valid tsquery syntax.
func Query(s string) string { return query(s, " & ") }

// QueryAny is like Query but matches texts with any of the terms: the fallback when Query finds
// nothing, ranked by how many terms match.
func QueryAny(s string) string { return query(s, " | ") }

func query(s, op string) string {
	terms := unique(Terms(s))
	if len(terms) == 0 {
		return ""
	}
	return strings.Join(terms, op) + ":*"
}

func unique(ws []string) []string {
	seen := make(map[string]bool, len(ws))
	out := ws[:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Keywords is the normalised text of s without stop words, words unstemmed: the string to
// compare by trigram similarity (pg_trgm) for typo tolerance, where whole words do better than
// stems ("wielkogabarytowe" typed as "wielkogabarytwe" is still close). Keywords(Keywords(s)) ==
// Keywords(s).
func Keywords(s string) string {
	ws := Tokens(s)
	out := ws[:0]
	for _, w := range ws {
		if !IsStopWord(w) {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}
