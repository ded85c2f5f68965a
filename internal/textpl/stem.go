package textpl

import (
	"slices"
	"strings"
)

// Stop words, folded: prepositions, conjunctions, pronouns, particles, the filler of questions
// residents type or say ("jak mogę", "chciałbym", "proszę"), and the abbreviations ul. and al.
// of addresses.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		a aby ach acz aczkolwiek albo ale ani az bardzo bez bo bowiem by byc byl byla byli bylo byly
		bym bys chce chcialabym chcialbym chcielibysmy ci cie ciebie co cos czy czyli czego czym dla
		do dlaczego gdy gdyz gdzie go i ich ile im ja jak jaka jaki jakie jakis jako je jego
		jej jemu jest jestem jestesmy jesli jeszcze jezeli juz ktora ktore ktorego ktorej ktory ktorych
		ktorym kiedy kto ktos ku lub ma mam mi mnie moge moj moja moje moze mozna my na nad nalezy
		nam nas nasz nasza nasze nie niech nim no np nr o od on ona one oni ono oraz pan pani po pod
		prosze przed przez przy sa sie sobie tak takze tam te tego tej ten tez to trzeba tu ty tylko
		u w we wiec wszystko z za zas ze zeby itd itp ul al
	`) {
		m[w] = true
	}
	return m
}()

// IsStopWord reports whether the normalised word w is too common to search for.
func IsStopWord(w string) bool { return stopWords[w] }

// irregular stems the rules below cannot find: the mobile e of pies (psa, psem, ...).
var irregular = map[string]string{
	"pies": "ps", "psa": "ps", "psu": "ps", "psem": "ps", "psie": "ps",
	"psy": "ps", "psow": "ps", "psom": "ps", "psami": "ps", "psach": "ps",
}

// stems are stems that end like an ending: "problem" is not probl+em, so problem, problemu,
// problemem all stem to problem.
var stems = []string{"problem", "system"}

// endings are inflectional endings, folded, longest first within each length class: noun and
// adjective cases in both numbers, infinitives, present tense in -uje.
var endings = []string{
	"ujecie", "ujemy", "ujesz",
	"iach", "iami", "iego", "iemu",
	"ach", "ami", "ego", "emu", "iej", "iem", "iom", "iow", "ich", "imi", "ych", "ymi", "owi", "uje", "uja",
	"ej", "em", "om", "ow", "ie", "ia", "iu", "ii", "im", "ym", "um", "ac", "ic", "yc",
	"a", "e", "i", "o", "u", "y",
}

// derivations are stem-forming suffixes left after the ending: adjectives in -owy (parkingowa →
// parking), verbal nouns and passive participles (zameldowanie, zameldowany, zameldować →
// zameld; zgłoszenie, zgłoszony → zgłosz; mieszkanie → mieszk).
var derivations = []string{"owan", "ien", "ow", "an", "en", "on"}

// alternations undo, at the end of a stem, the consonant changes of Polish inflection: dziura /
// dziurze (r/rz), woda / wodzie (d/dz), karta / karcie (t/ć), zgłosić / zgłoszenie (s/sz), and
// the mobile e of meldunek / meldunku (ek/k).
var alternations = []struct{ from, to string }{
	{"ek", "k"}, {"rz", "r"}, {"dz", "d"}, {"sz", "s"}, {"c", "t"},
}

// minStem is the shortest stem a rule may leave, in letters.
const minStem = 3

// Stem cuts a normalised word (lower-case, folded) to a light stem: one inflectional ending, then
// one derivational suffix, then a consonant alternation at the end. Words with letters outside
// a–z (other scripts) or with digits are returned as they are.
//
// It aims at recall for a knowledge base of a few thousand articles, not at linguistic truth.
// Known limits:
//   - vowel alternations are not undone: urząd / urzędu, miasto / mieście, las / lesie, pies / psa
//     (the last is in a small irregular table);
//   - k/c and g/dz before -e are not undone (wycinka / wycince, droga / drodze): the -ce and -dze
//     forms collide with plurals (ulica / ulice);
//   - past-tense verb forms (zgłosiłem) are not stemmed: their endings -al/-il collide with nouns
//     (lokal, szpital);
//   - unrelated words may share a stem (telefon and telefonia; lód and Łódź): ranking and the
//     trigram check sort those out.
func Stem(w string) string {
	if s, ok := irregular[w]; ok {
		return s
	}
	if !lettersAZ(w) {
		return w
	}
	for _, s := range stems {
		if rest, ok := strings.CutPrefix(w, s); ok && (rest == "" || slices.Contains(endings, rest)) {
			return s
		}
	}
	w = cut(w, endings)
	w = cut(w, derivations)
	for _, a := range alternations {
		if strings.HasSuffix(w, a.from) && len(w)-len(a.from)+len(a.to) >= minStem {
			return w[:len(w)-len(a.from)] + a.to
		}
	}
	return w
}

// cut removes the first suffix of list that w ends with, if at least minStem letters stay.
func cut(w string, list []string) string {
	for _, suffix := range list {
		if strings.HasSuffix(w, suffix) && len(w)-len(suffix) >= minStem {
			return w[:len(w)-len(suffix)]
		}
	}
	return w
}

func lettersAZ(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return w != ""
}
