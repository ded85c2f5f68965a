package textpl

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Dowód osobisty", "dowod osobisty"},
		{"ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "zazolc gesla jazn"},
		{"zażółć gęślą jaźń", "zazolc gesla jazn"},
		{"Odpady  wielkogabarytowe – odbiór!", "odpady wielkogabarytowe odbior"},
		{"  dziura w jezdni, ul. Piotrkowska 110  ", "dziura w jezdni ul piotrkowska 110"},
		{"e-mail: bok@uml.lodz.pl", "e mail bok uml lodz pl"},
		{"Łódź", "lodz"},
		{"ŁÓDŹ", "lodz"},
		{"zgłoszenie nr 2026/000123", "zgloszenie nr 2026 000123"},
		{"mieszkanie\tkomunalne\n", "mieszkanie komunalne"},
		// Decomposed input (as macOS pastes it): e + combining ogonek, o + combining acute.
		{"opłata za śmieci: ge\u0328s\u0301 o\u0301", "oplata za smieci ges o"},
		{"Straße, Ærø, Œuvre, Müller, Ñandú, Þór", "strasse aero oeuvre muller nandu thor"},
		{"Київ: вулиця Шевченка", "київ вулиця шевченка"}, // Ukrainian kept, lower-cased
		{"a\xffb", "a b"}, // invalid UTF-8 separates
		{"½ ² ③ ™ ©", ""}, // numbers that are not digits, symbols
		{"", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Inflected forms of the 19115 vocabulary meet at one stem; forms known not to are listed in
// Stem's doc comment.
func TestStemGroups(t *testing.T) {
	for _, group := range [][]string{
		{"dowód", "dowodu", "dowodem", "dowody", "dowodów", "dowodzie"},
		{"osobisty", "osobistego", "osobistym", "osobistej", "osobiste"},
		{"meldunek", "meldunku", "meldunkiem", "meldunkowy"},
		{"zameldowanie", "zameldowania", "zameldować", "zameldowany", "zameldowaniu"},
		{"wymeldowanie", "wymeldować", "wymeldowania"},
		{"odpady", "odpadów", "odpadami", "odpadach", "odpad"},
		{"wielkogabarytowe", "wielkogabarytowych", "wielkogabarytowymi", "wielkogabarytowy"},
		{"dziura", "dziury", "dziurę", "dziurze", "dziurą", "dziur"},
		{"jezdnia", "jezdni", "jezdnię", "jezdnią", "jezdnie"},
		{"bezpański", "bezpańskiego", "bezpańskie", "bezpańskim", "bezpańskich", "bezpańskiemu"},
		{"pies", "psa", "psem", "psy", "psów", "psami"},
		{"wycinka", "wycinki", "wycinkę", "wycinką", "wycinek"},
		{"drzewo", "drzewa", "drzew", "drzewami", "drzewach"},
		{"mieszkanie", "mieszkania", "mieszkań", "mieszkaniu", "mieszkaniem", "mieszkaniach", "mieszkać"},
		{"komunalne", "komunalnego", "komunalnych", "komunalny", "komunalnym"},
		{"karta", "karty", "kartę", "karcie", "kart"},
		{"parkingowa", "parkingowej", "parking", "parkingu", "parkingi"},
		{"opłata", "opłaty", "opłatę", "opłacie", "opłat", "opłacić"},
		{"śmieci", "śmieciach", "śmieciami"},
		{"zgłoszenie", "zgłoszenia", "zgłosić", "zgłoszony", "zgłoszeń"},
		{"wydanie", "wydać", "wydany", "wydania"},
		{"ulica", "ulicy", "ulicę", "ulice", "ulic", "ulicach"},
		{"problem", "problemu", "problemy", "problemem", "problemów"},
		{"zieleń", "zieleni", "zielone", "zielony"},
		{"straż", "straży"},
		{"miejska", "miejskiej", "miejskich", "miejski"},
		{"żłobek", "żłobka", "żłobku", "żłobki"},
		{"schronisko", "schroniska", "schronisku"},
		{"lokal", "lokalu", "lokale", "lokali"},
		{"informacja", "informacji", "informację"},
		{"samochód", "samochodu", "samochodzie", "samochody"},
		{"przystanek", "przystanku", "przystanki"},
		{"nieczystości", "nieczystość"},
		{"podatek", "podatku", "podatki", "podatkiem"},
		{"latarnia", "latarni", "latarnie"},
		{"chodnik", "chodnika", "chodniku", "chodniki"},
		{"hałas", "hałasu", "hałasem"},
	} {
		want := Stem(Normalize(group[0]))
		for _, w := range group[1:] {
			if got := Stem(Normalize(w)); got != want {
				t.Errorf("Stem(%s) = %q, Stem(%s) = %q: want the same", group[0], want, w, got)
			}
		}
	}
}

func TestStemKeepsWhatItCannotHandle(t *testing.T) {
	for _, w := range []string{"київ", "a4", "2026", "ul", "dom", "ps"} {
		if got := Stem(w); got != w && !(w == "dom") {
			t.Errorf("Stem(%q) = %q", w, got)
		}
	}
	// Stems never fall under three letters, except the irregular pies.
	for _, w := range []string{"domu", "domy", "lasu", "plany", "stanu", "ucho"} {
		if got := Stem(w); len(got) < minStem {
			t.Errorf("Stem(%q) = %q: too short", w, got)
		}
	}
	// Different words stay apart.
	for _, pair := range [][2]string{{"dowod", "dom"}, {"odpad", "opad"}, {"karta", "kara"}, {"ulica", "ulga"}, {"drzewo", "drzwi"}} {
		if Stem(pair[0]) == Stem(pair[1]) {
			t.Errorf("Stem(%q) == Stem(%q) == %q", pair[0], pair[1], Stem(pair[0]))
		}
	}
}

func TestTerms(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Jak wyrobić dowód osobisty?", "wyrob dowod osobist"},
		{"Gdzie zgłosić dziurę w jezdni na ul. Piotrkowskiej?", "zglos dziur jezdn piotrkowsk"},
		{"bezpański pies biega po osiedlu", "bezpansk ps bieg osiedl"},
		{"Chciałbym zapytać o wywóz odpadów wielkogabarytowych", "zapyt wywoz odpad wielkogabaryt"},
		{"wycinka drzew na prywatnej działce", "wycink drzew prywatn dzialt"},
		{"Opłata za śmieci – termin płatności 2026", "oplat smiet termin platnost 2026"},
		{"karta parkingowa dla osoby niepełnosprawnej", "kart parking osob niepelnosprawn"},
		{"meldunek czasowy, zameldowanie na pobyt stały", "meldunk czas zameld pobyt stal"},
		{"mieszkanie komunalne z zasobu miasta", "mieszk komunaln zasob miast"},
		{"W", ""},
		{"i / w / z", ""},
	} {
		if got := strings.Join(Terms(tc.in), " "); got != tc.want {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A query and an article written in different forms share their terms.
func TestQueryMeetsDocument(t *testing.T) {
	for _, tc := range []struct{ query, title string }{
		{"dowód osobisty", "Wydanie dowodu osobistego"},
		{"dowodem osobistym", "Wydanie dowodu osobistego"},
		{"utrata dowodu osobistego", "Zgłoszenie utraty dowodu osobistego"},
		{"meldunek", "Zameldowanie na pobyt stały – meldunku nie trzeba"},
		{"odpady wielkogabarytowe", "Odbiór odpadów wielkogabarytowych"},
		{"dziura w jezdni", "Zgłoszenie ubytków w jezdniach i dziur"},
		{"bezpański pies", "Interwencja w sprawie bezpańskich psów"},
		{"wycinka drzew", "Zezwolenie na wycinkę drzewa"},
		{"mieszkanie komunalne", "Najem mieszkań komunalnych"},
		{"karta parkingowa", "Wydanie karty parkingowej"},
		{"opłata za śmieci", "Opłaty za gospodarowanie odpadami (śmieciami)"},
		{"MIESZKANIE KOMUNALNE", "najem mieszkan komunalnych"}, // caps, no diacritics
		{"zgloszenie dziury", "Jak zgłosić dziurę w jezdni"},
	} {
		doc := Terms(tc.title)
		for _, q := range unique(Terms(tc.query)) {
			if !slices.Contains(doc, q) {
				t.Errorf("query %q: term %q not in %q %v", tc.query, q, tc.title, doc)
			}
		}
	}
}

func TestQuery(t *testing.T) {
	for _, tc := range []struct{ in, all, any string }{
		{"dowód osobisty", "dowod & osobist:*", "dowod | osobist:*"},
		{"dowód osob", "dowod & osob:*", "dowod | osob:*"},
		{"pies, psa, psem!", "ps:*", "ps:*"},
		{"w na z", "", ""},
		{"'; DROP TABLE articles; --", "drop & tabl & articles:*", "drop | tabl | articles:*"},
		{"a & b | !c <-> (d):*", "", ""},
		{"dziura & (jezdnia | chodnik)", "dziur & jezdn & chodnik:*", "dziur | jezdn | chodnik:*"},
	} {
		if got := Query(tc.in); got != tc.all {
			t.Errorf("Query(%q) = %q, want %q", tc.in, got, tc.all)
		}
		if got := QueryAny(tc.in); got != tc.any {
			t.Errorf("QueryAny(%q) = %q, want %q", tc.in, got, tc.any)
		}
	}
}

func TestDocumentAndKeywords(t *testing.T) {
	if got := Document("Odbiór odpadów wielkogabarytowych w Łodzi"); got != "odbior odpad wielkogabaryt lod" {
		t.Errorf("Document = %q", got)
	}
	if got := Keywords("Gdzie zgłosić dziurę w jezdni?"); got != "zglosic dziure jezdni" {
		t.Errorf("Keywords = %q", got)
	}
}

func TestStopWordsAreNormalised(t *testing.T) {
	for w := range stopWords {
		if Normalize(w) != w || strings.Contains(w, " ") {
			t.Errorf("stop word %q is not in normalised form", w)
		}
	}
}

// FuzzNormalize: no input makes the normaliser panic; the output is valid UTF-8, idempotent and
// tidy; terms are letters and digits only; queries use only tsquery's own operators.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Dowód osobisty", "ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "ge\u0328s\u0301", "a\xffb", "Київ", "İstanbul", "ǅ ǈ ǋ", "ﬁ ﬀ", "ẞ", "½²③", "'; DROP TABLE", "a & b | !c <-> (d):*", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize not idempotent: %q → %q → %q", s, n, again)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q: stray spaces", s, n)
		}
		if k := Keywords(s); Keywords(k) != k {
			t.Fatalf("Keywords not idempotent: %q → %q → %q", s, k, Keywords(k))
		}
		for _, term := range Terms(s) {
			if term == "" || !utf8.ValidString(term) || len(term) > maxTermLen {
				t.Fatalf("Terms(%q) has term %q", s, term)
			}
			for _, r := range term {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("Terms(%q) has term %q with %q", s, term, r)
				}
			}
		}
		for _, q := range []string{Query(s), QueryAny(s)} {
			for _, r := range q {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" &|:*", r) {
					t.Fatalf("query for %q is %q: %q is not allowed", s, q, r)
				}
			}
		}
	})
}

func BenchmarkDocument(b *testing.B) {
	article := strings.Repeat("Odbiór odpadów wielkogabarytowych z nieruchomości zamieszkałych odbywa się według harmonogramu; "+
		"mieszkaniec wystawia meble, dywany i materace przed posesję w dniu wywozu. ", 10)
	b.SetBytes(int64(len(article)))
	for b.Loop() {
		Document(article)
	}
}

func BenchmarkQuery(b *testing.B) {
	for b.Loop() {
		Query("jak wyrobić dowód osobisty dla dziecka")
	}
}
