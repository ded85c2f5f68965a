package crm

import (
	"context"
	"fmt"

	"kontakt/internal/ticket"
	"kontakt/internal/workcal"
)

// DemoOpen311Key is the API key of the demo's Open311 client (the "web portal"), created by
// SeedDemo. Never use it outside a demo.
const DemoOpen311Key = "kontakt-demo-open311-key"

// SeedDemo fills a database for the demo: about thirty knowledge-base articles a Łódź-style
// contact center answers from (one internal, one expired), a few tickets filed through the web
// portal and the mobile app, and a demo Open311 client. It is idempotent: articles are matched by
// title, tickets and the client by a marker, and nothing present is written again.
func SeedDemo(ctx context.Context, db DB) error {
	s := New(db, Options{Location: workcal.Warsaw()})
	admin := ticket.Actor{Role: ticket.RoleAdministrator}
	ids := map[string]int64{}
	for _, a := range demoArticles() {
		var id int64
		err := db.QueryRow(ctx, `SELECT id FROM articles WHERE title = $1`, a.Title).Scan(&id)
		if err == nil {
			ids[a.Title] = id
			continue
		}
		art, err := s.CreateArticle(ctx, admin, a.ArticleFields)
		if err != nil {
			return fmt.Errorf("crm: seed article %q: %w", a.Title, err)
		}
		if _, err := db.Exec(ctx, `UPDATE articles SET use_count = $2 WHERE id = $1`, art.ID, a.uses); err != nil {
			return err
		}
		ids[a.Title] = art.ID
	}
	// Related procedures, once all exist.
	for _, a := range demoArticles() {
		var rel []int64
		for _, t := range a.related {
			if id, ok := ids[t]; ok {
				rel = append(rel, id)
			}
		}
		if len(rel) > 0 {
			if _, err := db.Exec(ctx, `UPDATE articles SET related_ids = $2 WHERE id = $1 AND related_ids = '{}'`, ids[a.Title], rel); err != nil {
				return err
			}
		}
	}
	var seeded bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tickets WHERE attributes->>'source' = 'demo')`).Scan(&seeded); err != nil {
		return err
	}
	if !seeded {
		system := ticket.Actor{Role: ticket.RoleSystem}
		for _, t := range demoTickets() {
			if _, err := s.CreateTicket(ctx, system, t); err != nil {
				return fmt.Errorf("crm: seed ticket %q: %w", t.Description, err)
			}
		}
	}
	if _, err := s.EnsureOpen311Client(ctx, "Portal mieszkańca (demo)", ticket.ChannelWebForm, DemoOpen311Key); err != nil {
		return err
	}
	return nil
}

func demoTickets() []NewTicket {
	pos := func(lat, lon float64) (*float64, *float64) { return &lat, &lon }
	mk := func(ch ticket.Channel, cat, desc, addr string, lat, lon float64, name, phone string) NewTicket {
		la, lo := pos(lat, lon)
		return NewTicket{Channel: ch, Category: cat, Description: desc, CallerName: name, CallerPhone: phone,
			Address: Address{Text: addr, Lat: la, Lon: lo}, Attributes: map[string]string{"source": "demo"}}
	}
	return []NewTicket{
		mk(ticket.ChannelMobileApp, "pothole", "Głęboka dziura w jezdni przy przejściu dla pieszych, samochody gwałtownie hamują.",
			"ul. Piotrkowska 182, Łódź", 51.7530, 19.4590, "Anna Kowalska", "+48600100200"),
		mk(ticket.ChannelWebForm, "illegal_dump", "Za garażami ktoś wyrzucił gruz i stare meble, sterta rośnie od tygodnia.",
			"ul. Wólczańska 215, Łódź", 51.7497, 19.4494, "Jan Nowak", "+48600100201"),
		mk(ticket.ChannelMobileApp, "stray_animal", "Pies bez obroży błąka się przy placu zabaw, jest spokojny.",
			"al. Politechniki 10, Łódź", 51.7447, 19.4540, "", "+48600100202"),
		mk(ticket.ChannelWebForm, "fallen_tree", "Po wichurze konar leży na chodniku i blokuje przejście.",
			"ul. Narutowicza 65, Łódź", 51.7720, 19.4770, "Maria Wiśniewska", "+48600100203"),
		mk(ticket.ChannelWebForm, "streetlight_out", "Nie świecą trzy latarnie z rzędu, na ulicy jest zupełnie ciemno.",
			"ul. Zgierska 50, Łódź", 51.7890, 19.4470, "", "+48600100204"),
		mk(ticket.ChannelMobileApp, "pothole", "Ubytek w asfalcie na pasie do skrętu w lewo.",
			"ul. Piotrkowska 190, Łódź", 51.7524, 19.4592, "", "+48600100205"),
	}
}

type demoArticle struct {
	ArticleFields
	uses    int
	related []string
}

func demoArticles() []demoArticle {
	const lodz = "Urząd Miasta Łodzi, Wydział Spraw Obywatelskich, ul. Piotrkowska 110, 90-926 Łódź, sala obsługi – parter"
	const kpa = "Od decyzji przysługuje odwołanie do Wojewody Łódzkiego za pośrednictwem Prezydenta Miasta Łodzi w terminie 14 dni od dnia jej doręczenia."
	const reuse = "Na zasadach ogólnych określonych w Biuletynie Informacji Publicznej Urzędu Miasta Łodzi."
	const noFees = "brak"
	a := func(title string, uses int, cats, kw []string, unit, dept, handling, limit, place string, fees Fees, docs []Document, info, legal, appeal string, related ...string) demoArticle {
		return demoArticle{uses: uses, related: related, ArticleFields: ArticleFields{
			Title: title, ValidFrom: "2024-01-01", ProducedOn: "2023-12-15", Keywords: kw, Categories: cats,
			Handling: handling, TimeLimit: limit, Place: place, Fees: fees, Documents: docs, ConsultantInfo: info,
			LegalBasis: legal, Appeal: appeal, ReuseConditions: reuse, Owner: "Katarzyna Zielińska",
			Authors: []string{"Piotr Lewandowski"}, Coordinator: "Tomasz Wójcik", Handlers: []string{"Agnieszka Kamińska", "Michał Dąbrowski"},
			Unit: unit, Department: dept, DomainSystem: "", EDoc: true,
		}}
	}
	submit := func(names ...string) []Document {
		var ds []Document
		for _, n := range names {
			ds = append(ds, Document{Name: n, Kind: "submit"})
		}
		return ds
	}
	view := func(ds []Document, names ...string) []Document {
		for _, n := range names {
			ds = append(ds, Document{Name: n, Kind: "view"})
		}
		return ds
	}
	out := []demoArticle{
		a("Dowód osobisty – wydanie i wymiana", 120, []string{"id_card"},
			[]string{"dowód osobisty", "wymiana dowodu", "nowy dowód", "dokument tożsamości", "e-dowód"},
			"civil_affairs", "Oddział Dowodów Osobistych",
			"1. Złóż wniosek o wydanie dowodu osobistego osobiście w dowolnym urzędzie gminy albo przez Internet z profilem zaufanym.\n2. Urzędnik zrobi zdjęcie lub przyjmie zdjęcie zgodne z wymogami i pobierze odciski palców.\n3. Dowód wymień, gdy zbliża się koniec jego ważności, po zmianie nazwiska lub danych, albo gdy jest uszkodzony.\n4. Odbierz dowód osobiście w urzędzie wskazanym we wniosku; o gotowości dowodu powiadomi SMS lub e-mail.",
			"do 30 dni", lodz, Fees{StampDuty: noFees, Other: noFees},
			view(submit("Wniosek o wydanie dowodu osobistego", "Aktualne zdjęcie 35 × 45 mm"), "Dotychczasowy dowód osobisty"),
			"Najczęstsze pytania: czy trzeba się umawiać – nie, ale rezerwacja wizyty skraca czekanie. Kontakt wewnętrzny: kierownik oddziału, tel. 42 638 40 00 w. 123.",
			"Ustawa z dnia 6 sierpnia 2010 r. o dowodach osobistych (Dz. U. z 2022 r. poz. 671 ze zm.).", kpa,
			"Utrata lub uszkodzenie dowodu osobistego", "Dowód osobisty dla dziecka"),
		a("Utrata lub uszkodzenie dowodu osobistego", 60, []string{"id_card"},
			[]string{"zgubiony dowód", "skradziony dowód", "unieważnienie dowodu", "kradzież"},
			"civil_affairs", "Oddział Dowodów Osobistych",
			"1. Zgłoś utratę lub uszkodzenie dowodu niezwłocznie: w urzędzie gminy, na policji, w placówce konsularnej albo przez Internet (e-usługa), aby dowód unieważnić.\n2. Otrzymasz zaświadczenie o zgłoszeniu utraty.\n3. Złóż wniosek o nowy dowód osobisty.",
			"niezwłocznie; unieważnienie następuje z chwilą zgłoszenia", lodz, Fees{StampDuty: noFees, Other: noFees},
			submit("Zgłoszenie utraty lub uszkodzenia dowodu osobistego"),
			"Jeśli mieszkaniec podejrzewa kradzież tożsamości, doradź zastrzeżenie numeru PESEL w aplikacji mObywatel.",
			"Ustawa z dnia 6 sierpnia 2010 r. o dowodach osobistych.", "", "Dowód osobisty – wydanie i wymiana"),
		a("Dowód osobisty dla dziecka", 25, []string{"id_card"},
			[]string{"dowód dla dziecka", "dziecko", "małoletni"},
			"civil_affairs", "Oddział Dowodów Osobistych",
			"1. Wniosek za dziecko do 18 lat składa rodzic lub opiekun prawny.\n2. Dziecko powyżej 5 lat musi być obecne przy składaniu wniosku.\n3. Dowód dziecka do 12 lat jest ważny 5 lat.",
			"do 30 dni", lodz, Fees{StampDuty: noFees, Other: noFees}, submit("Wniosek o wydanie dowodu osobistego", "Zdjęcie dziecka"),
			"Dowód dla dziecka nie zawiera odcisków palców do 12. roku życia.", "Ustawa z dnia 6 sierpnia 2010 r. o dowodach osobistych.", kpa),
		a("Zameldowanie na pobyt stały", 90, []string{"residence_registration"},
			[]string{"meldunek", "zameldowanie", "pobyt stały", "adres zamieszkania"},
			"civil_affairs", "Oddział Ewidencji Ludności",
			"1. Wypełnij formularz zgłoszenia pobytu stałego.\n2. Właściciel lokalu potwierdza pobyt podpisem na formularzu albo przedstaw tytuł prawny do lokalu (umowa najmu, akt notarialny).\n3. Złóż formularz w urzędzie lub przez Internet; zameldowanie następuje od ręki.",
			"niezwłocznie, w dniu zgłoszenia", lodz, Fees{StampDuty: noFees, Other: noFees},
			view(submit("Formularz zgłoszenia pobytu stałego"), "Dowód osobisty", "Tytuł prawny do lokalu"),
			"Zameldowanie nie daje prawa do lokalu – tak odpowiadaj na pytania właścicieli mieszkań.",
			"Ustawa z dnia 24 września 2010 r. o ewidencji ludności (Dz. U. z 2022 r. poz. 1191 ze zm.).", "",
			"Zameldowanie na pobyt czasowy", "Wymeldowanie z pobytu stałego"),
		a("Zameldowanie na pobyt czasowy", 40, []string{"residence_registration"},
			[]string{"meldunek czasowy", "pobyt czasowy", "zameldowanie"},
			"civil_affairs", "Oddział Ewidencji Ludności",
			"1. Zgłoś pobyt czasowy najpóźniej 30. dnia od przybycia.\n2. Podaj okres pobytu; po jego upływie wymeldowanie następuje automatycznie.",
			"w dniu zgłoszenia", lodz, Fees{StampDuty: noFees, Other: noFees}, submit("Formularz zgłoszenia pobytu czasowego"),
			"", "Ustawa z dnia 24 września 2010 r. o ewidencji ludności.", ""),
		a("Wymeldowanie z pobytu stałego", 30, []string{"residence_registration"},
			[]string{"wymeldowanie", "meldunek", "wyprowadzka"},
			"civil_affairs", "Oddział Ewidencji Ludności",
			"1. Zgłoś wymeldowanie osobiście lub przez Internet.\n2. Wymeldowanie osoby, która opuściła lokal i nie wymeldowała się, następuje w drodze decyzji administracyjnej na wniosek właściciela.",
			"w dniu zgłoszenia; w trybie decyzji do 30 dni", lodz, Fees{StampDuty: noFees, Other: "decyzja o wymeldowaniu: 10 zł opłaty skarbowej"},
			submit("Zgłoszenie wymeldowania z miejsca pobytu stałego"), "", "Ustawa z dnia 24 września 2010 r. o ewidencji ludności.", kpa),
		a("Odbiór odpadów wielkogabarytowych", 80, []string{"bulky_waste"},
			[]string{"gabaryty", "meble", "odpady wielkogabarytowe", "stara kanapa", "wystawka"},
			"waste_management", "Dział Obsługi Mieszkańców",
			"1. Sprawdź w harmonogramie termin odbioru odpadów wielkogabarytowych dla swojego adresu.\n2. Wystaw meble i inne odpady wielkogabarytowe przed posesję w przeddzień terminu do godz. 6:00.\n3. Poza harmonogramem oddaj je bezpłatnie w Punkcie Selektywnej Zbiórki Odpadów Komunalnych.",
			"zgodnie z harmonogramem", "Zarząd Gospodarowania Odpadami, ul. Piotrkowska 175, Łódź", Fees{StampDuty: noFees, Other: "w ramach opłaty za gospodarowanie odpadami"},
			nil, "Gruz i opony nie są odpadami wielkogabarytowymi – kieruj do PSZOK.",
			"Ustawa z dnia 13 września 1996 r. o utrzymaniu czystości i porządku w gminach.", "", "Punkt Selektywnej Zbiórki Odpadów Komunalnych (PSZOK)"),
		a("Punkt Selektywnej Zbiórki Odpadów Komunalnych (PSZOK)", 35, []string{"bulky_waste", "illegal_dump"},
			[]string{"PSZOK", "gruz", "elektrośmieci", "opony", "farby"},
			"waste_management", "Dział Obsługi Mieszkańców",
			"1. Przywieź posegregowane odpady do PSZOK w godzinach otwarcia.\n2. Okaż dokument potwierdzający zamieszkanie w Łodzi.\n3. Odpady przyjmowane są bezpłatnie w limitach określonych regulaminem.",
			"od ręki", "PSZOK, ul. Zamiejska 1, Łódź", Fees{StampDuty: noFees, Other: noFees}, nil, "",
			"Uchwała Rady Miejskiej w Łodzi w sprawie regulaminu utrzymania czystości i porządku.", ""),
		a("Deklaracja o wysokości opłaty za gospodarowanie odpadami komunalnymi", 70, []string{"waste_fee"},
			[]string{"opłata za śmieci", "deklaracja śmieciowa", "śmieci", "stawka", "odpady komunalne"},
			"waste_management", "Dział Opłat",
			"1. Złóż deklarację w ciągu 14 dni od zamieszkania pierwszego mieszkańca albo od zmiany liczby mieszkańców.\n2. Opłatę wnoś co miesiąc na indywidualny rachunek bankowy.\n3. Kompostownik przydomowy uprawnia do zwolnienia z części opłaty.",
			"14 dni od zmiany", "Zarząd Gospodarowania Odpadami, ul. Piotrkowska 175, Łódź",
			Fees{StampDuty: noFees, Other: "stawka miesięczna od osoby według uchwały Rady Miejskiej", OtherAccount: "indywidualny numer rachunku"},
			submit("Deklaracja o wysokości opłaty za gospodarowanie odpadami komunalnymi"), "",
			"Ustawa z dnia 13 września 1996 r. o utrzymaniu czystości i porządku w gminach, art. 6m.", ""),
		a("Odbiór śmieci – harmonogram i reklamacje", 65, []string{"overflowing_bins"},
			[]string{"śmieci", "nieodebrane śmieci", "harmonogram wywozu", "pojemnik", "kosz"},
			"waste_management", "Dział Obsługi Mieszkańców",
			"1. Sprawdź harmonogram wywozu śmieci dla adresu.\n2. Nieodebrane śmieci zgłoś najpóźniej następnego dnia roboczego; podaj adres i rodzaj odpadów.\n3. Firma odbierająca ma 2 dni robocze na odbiór reklamowanych odpadów.",
			"2 dni robocze", "Zarząd Gospodarowania Odpadami, ul. Piotrkowska 175, Łódź", Fees{StampDuty: noFees, Other: noFees}, nil,
			"Przy powtarzających się reklamacjach z jednego adresu przekaż zgłoszenie jako interwencję do ZGO.", "Ustawa o utrzymaniu czystości i porządku w gminach.", ""),
		a("Dzikie wysypisko – zgłoszenie", 30, []string{"illegal_dump"},
			[]string{"wysypisko", "śmieci w lesie", "podrzucone odpady", "gruz"},
			"waste_management", "Dział Kontroli",
			"1. Podaj dokładne miejsce (adres, punkt orientacyjny lub współrzędne) i rodzaj odpadów.\n2. Zgłoszenie trafia do Zarządu Gospodarowania Odpadami, który zleca uprzątnięcie terenu gminnego.\n3. Na terenie prywatnym obowiązek usunięcia ma właściciel – sprawę prowadzi Straż Miejska.",
			"5 dni roboczych", "Zarząd Gospodarowania Odpadami", Fees{StampDuty: noFees, Other: noFees}, nil, "",
			"Ustawa z dnia 14 grudnia 2012 r. o odpadach, art. 26.", ""),
		a("Dziura w jezdni lub uszkodzony chodnik – zgłoszenie", 85, []string{"pothole", "damaged_pavement"},
			[]string{"dziura", "dziura w drodze", "wyrwa", "ubytek w asfalcie", "jezdnia", "chodnik", "nawierzchnia"},
			"roads_transport", "Wydział Utrzymania Dróg",
			"1. Podaj adres, pas ruchu i przybliżoną wielkość dziury; zdjęcie przyspiesza ocenę.\n2. Zgłoszenie trafia do Zarządu Dróg i Transportu.\n3. Dziury zagrażające bezpieczeństwu są zabezpieczane w ciągu 24 godzin, pozostałe naprawiane w ramach bieżącego utrzymania.",
			"3 dni robocze", "Zarząd Dróg i Transportu, ul. Piotrkowska 175, Łódź", Fees{StampDuty: noFees, Other: noFees}, nil,
			"Drogi wojewódzkie i krajowe poza miastem nie należą do ZDiT – sprawdź zarządcę drogi.",
			"Ustawa z dnia 21 marca 1985 r. o drogach publicznych, art. 20.", "", "Odszkodowanie za szkodę na drodze"),
		a("Odszkodowanie za szkodę na drodze", 20, []string{"pothole"},
			[]string{"odszkodowanie", "uszkodzony samochód", "szkoda", "ubezpieczenie OC zarządcy"},
			"roads_transport", "Wydział Prawny",
			"1. Zabezpiecz dowody: zdjęcia miejsca i uszkodzeń, dane świadków, notatkę policji lub straży miejskiej.\n2. Złóż wniosek o odszkodowanie do Zarządu Dróg i Transportu.\n3. Sprawę prowadzi ubezpieczyciel zarządcy drogi.",
			"30 dni od zgłoszenia szkody", "Zarząd Dróg i Transportu", Fees{StampDuty: noFees, Other: noFees}, submit("Wniosek o wypłatę odszkodowania"), "",
			"Kodeks cywilny, art. 415 i 417.", ""),
		a("Niedziałające oświetlenie uliczne", 25, []string{"streetlight_out"},
			[]string{"latarnia", "lampa uliczna", "oświetlenie", "ciemna ulica"},
			"roads_transport", "Wydział Oświetlenia",
			"1. Podaj adres i numer słupa, jeśli jest widoczny.\n2. Zgłoszenie trafia do konserwatora oświetlenia.", "3 dni robocze",
			"Zarząd Dróg i Transportu", Fees{StampDuty: noFees, Other: noFees}, nil, "", "Ustawa o drogach publicznych.", ""),
		a("Zniszczona wiata przystankowa", 15, []string{"bus_shelter"},
			[]string{"przystanek", "wiata", "wybita szyba", "rozkład jazdy"},
			"roads_transport", "Wydział Transportu Zbiorowego",
			"1. Podaj nazwę przystanku i kierunek.\n2. Wybita szyba jest zabezpieczana tego samego dnia, naprawa do 5 dni roboczych.", "5 dni roboczych",
			"Zarząd Dróg i Transportu", Fees{StampDuty: noFees, Other: noFees}, nil, "", "Ustawa o publicznym transporcie zbiorowym.", ""),
		a("Bezpański pies lub kot – zgłoszenie", 55, []string{"stray_animal"},
			[]string{"bezpański pies", "błąkający się pies", "kot", "zwierzę bez opieki", "psy"},
			"animal_shelter", "Dział Interwencji",
			"1. Podaj miejsce, opis zwierzęcia i czy jest agresywne lub ranne.\n2. Zwierzę odławia Schronisko dla Zwierząt; agresywnym zajmuje się Straż Miejska.\n3. Zwierzę ranne w wypadku – całodobowa interwencja.",
			"4 godziny robocze; ranne zwierzę niezwłocznie", "Schronisko dla Zwierząt, ul. Marmurowa 4, Łódź", Fees{StampDuty: noFees, Other: noFees}, nil,
			"W nocy i w weekendy dzwoń do dyżurnego Straży Miejskiej: 986.", "Ustawa z dnia 21 sierpnia 1997 r. o ochronie zwierząt, art. 11.", "",
			"Adopcja zwierzęcia ze schroniska"),
		a("Adopcja zwierzęcia ze schroniska", 20, []string{"stray_animal"},
			[]string{"adopcja", "pies ze schroniska", "kot ze schroniska"},
			"animal_shelter", "Dział Adopcji",
			"1. Obejrzyj zwierzęta na stronie schroniska i przyjdź w godzinach otwarcia.\n2. Rozmowa adopcyjna i podpisanie umowy.\n3. Zwierzę jest zaszczepione i zaczipowane.",
			"od ręki po rozmowie adopcyjnej", "Schronisko dla Zwierząt, ul. Marmurowa 4, Łódź", Fees{StampDuty: noFees, Other: noFees},
			view(nil, "Dowód osobisty"), "", "Ustawa o ochronie zwierząt.", ""),
		a("Zezwolenie na wycinkę drzew lub krzewów", 45, []string{"tree_felling"},
			[]string{"wycinka drzewa", "usunięcie drzewa", "zezwolenie", "krzewy"},
			"green_areas", "Wydział Ochrony Środowiska",
			"1. Złóż wniosek o zezwolenie na usunięcie drzewa z terenu nieruchomości z mapką i zgodą właściciela.\n2. Urzędnik przeprowadzi oględziny.\n3. Osoba fizyczna usuwająca drzewo na cele niezwiązane z działalnością gospodarczą składa tylko zgłoszenie, gdy obwód pnia przekracza progi z ustawy.",
			"do 30 dni, w sprawach szczególnie skomplikowanych do 60 dni", "Urząd Miasta Łodzi, Wydział Ochrony Środowiska, ul. Piotrkowska 175",
			Fees{StampDuty: noFees, Other: "opłata za usunięcie drzewa, jeśli nie ma zwolnienia"}, submit("Wniosek o wydanie zezwolenia na usunięcie drzew lub krzewów", "Rysunek lub mapka z lokalizacją drzew"),
			"", "Ustawa z dnia 16 kwietnia 2004 r. o ochronie przyrody, art. 83–83f.", kpa),
		a("Powalone lub zagrażające drzewo – zgłoszenie", 30, []string{"fallen_tree"},
			[]string{"powalone drzewo", "konar", "złamana gałąź", "wichura", "drzewa"},
			"green_areas", "Dział Utrzymania Zieleni",
			"1. Gdy drzewo blokuje jezdnię lub zagraża życiu – 112.\n2. Pozostałe zgłoszenia trafiają do Zarządu Zieleni Miejskiej, który usuwa drzewo z terenu gminnego.",
			"8 godzin roboczych", "Zarząd Zieleni Miejskiej", Fees{StampDuty: noFees, Other: noFees}, nil, "", "Ustawa o ochronie przyrody.", ""),
		a("Najem mieszkania komunalnego – wniosek", 50, []string{"municipal_flat"},
			[]string{"mieszkanie komunalne", "lokal komunalny", "najem", "mieszkanie z zasobu gminy"},
			"municipal_housing", "Dział Najmu",
			"1. Sprawdź kryterium dochodowe i warunki z uchwały Rady Miejskiej.\n2. Złóż wniosek o najem lokalu z zasobu gminy z oświadczeniem o dochodach i majątku.\n3. Wniosek przechodzi weryfikację i trafia na listę osób uprawnionych.",
			"weryfikacja do 2 miesięcy; oczekiwanie na lokal według listy", "Zarząd Lokali Miejskich, ul. Piotrkowska 175, Łódź", Fees{StampDuty: noFees, Other: noFees},
			submit("Wniosek o najem lokalu mieszkalnego", "Deklaracja o dochodach", "Oświadczenie o stanie majątkowym"),
			"Pytania o konkretny lokal przekazuj do ZLM, nie podawaj pozycji na liście.",
			"Ustawa z dnia 21 czerwca 2001 r. o ochronie praw lokatorów; uchwała Rady Miejskiej w Łodzi w sprawie zasad wynajmowania lokali.", "",
			"Zamiana mieszkania komunalnego"),
		a("Zamiana mieszkania komunalnego", 15, []string{"municipal_flat"},
			[]string{"zamiana mieszkania", "lokal komunalny", "zamiana lokalu"},
			"municipal_housing", "Dział Najmu",
			"1. Znajdź osobę chętną do zamiany (giełda zamian ZLM).\n2. Złóż wspólny wniosek o zgodę na zamianę.", "do 2 miesięcy",
			"Zarząd Lokali Miejskich", Fees{StampDuty: noFees, Other: noFees}, submit("Wniosek o zamianę lokali"), "", "Ustawa o ochronie praw lokatorów.", ""),
		a("Karta parkingowa dla osoby niepełnosprawnej", 35, []string{"parking_card"},
			[]string{"karta parkingowa", "niepełnosprawność", "koperta", "miejsce dla niepełnosprawnych"},
			"roads_transport", "Miejski Zespół do Spraw Orzekania o Niepełnosprawności",
			"1. Złóż wniosek o kartę parkingową z orzeczeniem o niepełnosprawności zawierającym wskazanie do karty.\n2. Dołącz zdjęcie.\n3. Kartę odbierz osobiście.",
			"do 30 dni", "Miejski Zespół do Spraw Orzekania o Niepełnosprawności, ul. Piotrkowska 175", Fees{StampDuty: noFees, Other: "21 zł za wydanie karty"},
			submit("Wniosek o wydanie karty parkingowej", "Zdjęcie 35 × 45 mm"), "",
			"Ustawa z dnia 20 czerwca 1997 r. – Prawo o ruchu drogowym, art. 8.", kpa, "Abonament postojowy w Strefie Płatnego Parkowania"),
		a("Abonament postojowy w Strefie Płatnego Parkowania", 30, []string{"parking_card"},
			[]string{"abonament parkingowy", "strefa płatnego parkowania", "mieszkańca", "parkowanie"},
			"roads_transport", "Biuro Strefy Płatnego Parkowania",
			"1. Złóż wniosek o abonament mieszkańca strefy z dowodem rejestracyjnym pojazdu.\n2. Opłać abonament.\n3. Abonament jest elektroniczny – przypisany do numeru rejestracyjnego.",
			"od ręki", "Zarząd Dróg i Transportu, Biuro SPP", Fees{StampDuty: noFees, Other: "według cennika uchwały Rady Miejskiej"},
			submit("Wniosek o abonament postojowy"), "", "Ustawa o drogach publicznych, art. 13b.", ""),
		a("Abonament komunikacji miejskiej – bilet okresowy", 60, []string{"public_transport"},
			[]string{"bilet miesięczny", "bilet okresowy", "abonament komunikacji miejskiej", "karta miejska", "MPK"},
			"roads_transport", "Wydział Transportu Zbiorowego",
			"1. Bilet okresowy kup w automacie, punkcie sprzedaży lub aplikacji i zapisz na karcie miejskiej.\n2. Bilet imienny wymaga spersonalizowanej karty.\n3. Zwrot niewykorzystanego biletu – w punkcie obsługi pasażera.",
			"od ręki", "Punkt Obsługi Pasażera, ul. Piotrkowska 153", Fees{StampDuty: noFees, Other: "według cennika biletów"}, nil,
			"Reklamacje biletów z automatów kieruj do MPK-Łódź, nie do ZDiT.", "Uchwała Rady Miejskiej w Łodzi w sprawie cen biletów.", "",
			"Ulgi w komunikacji miejskiej"),
		a("Ulgi w komunikacji miejskiej", 25, []string{"public_transport"},
			[]string{"ulga", "bilet ulgowy", "darmowe przejazdy", "seniorzy", "uczniowie"},
			"roads_transport", "Wydział Transportu Zbiorowego",
			"1. Sprawdź, czy przysługuje ulga ustawowa lub miejska.\n2. Podczas kontroli okaż dokument uprawniający.", "od ręki",
			"Zarząd Dróg i Transportu", Fees{StampDuty: noFees, Other: noFees}, nil, "", "Uchwała Rady Miejskiej w Łodzi w sprawie uprawnień do ulgowych przejazdów.", ""),
		a("Podatek od nieruchomości dla osób fizycznych", 40, []string{"local_tax"},
			[]string{"podatek od nieruchomości", "podatki lokalne", "informacja podatkowa", "raty podatku"},
			"local_taxes", "Oddział Podatków i Opłat",
			"1. Złóż informację o nieruchomościach w ciągu 14 dni od nabycia nieruchomości.\n2. Urząd wyda decyzję ustalającą wysokość podatku.\n3. Podatek płać w czterech ratach: do 15 marca, 15 maja, 15 września i 15 listopada.",
			"decyzja do 30 dni", "Urząd Miasta Łodzi, Oddział Podatków i Opłat, ul. Piotrkowska 110",
			Fees{StampDuty: noFees, Other: noFees, OtherAccount: "indywidualny rachunek podatnika"},
			submit("Informacja o nieruchomościach i obiektach budowlanych (IN-1)"), "",
			"Ustawa z dnia 12 stycznia 1991 r. o podatkach i opłatach lokalnych.", "Odwołanie do Samorządowego Kolegium Odwoławczego w Łodzi w terminie 14 dni."),
		a("Zakłócanie ciszy nocnej – interwencja Straży Miejskiej", 30, []string{"noise"},
			[]string{"cisza nocna", "hałas", "głośna impreza", "sąsiedzi", "zakłócanie spokoju"},
			"city_guard", "Dyżurny Straży Miejskiej",
			"1. Podaj adres i rodzaj hałasu.\n2. Zgłoszenie trafia do dyżurnego Straży Miejskiej, który kieruje patrol.\n3. W sytuacji zagrożenia – policja, tel. 112.",
			"4 godziny", "Straż Miejska w Łodzi, ul. Księży Młyn 18", Fees{StampDuty: noFees, Other: noFees}, nil,
			"Telefon dyżurnego SM: 986 (całodobowo).", "Kodeks wykroczeń, art. 51.", ""),
		a("Usunięcie porzuconego pojazdu", 10, []string{"abandoned_vehicle"},
			[]string{"wrak", "porzucony samochód", "pojazd bez tablic", "auto"},
			"city_guard", "Referat Wraków",
			"1. Podaj adres, markę, kolor i numer rejestracyjny, jeśli jest.\n2. Straż Miejska sprawdza, czy pojazd jest porzucony, i wzywa właściciela do usunięcia.\n3. Nieusunięty pojazd jest odholowany na koszt właściciela.",
			"5 dni roboczych", "Straż Miejska w Łodzi", Fees{StampDuty: noFees, Other: noFees}, nil, "",
			"Ustawa – Prawo o ruchu drogowym, art. 50a.", ""),
		a("Zapisy do żłobka miejskiego", 20, []string{"nursery"},
			[]string{"żłobek", "rekrutacja do żłobka", "opieka nad dzieckiem", "dzieci do lat 3"},
			"nurseries", "Dział Rekrutacji",
			"1. Zarejestruj dziecko w elektronicznym systemie rekrutacji do żłobków.\n2. Wybierz do trzech żłobków.\n3. Potwierdź przyjęcie w wybranym żłobku.",
			"według harmonogramu rekrutacji", "Miejski Zespół Żłobków w Łodzi, ul. Milionowa 57", Fees{StampDuty: noFees, Other: "opłata miesięczna i wyżywienie według uchwały"},
			submit("Wniosek o przyjęcie dziecka do żłobka"), "", "Ustawa z dnia 4 lutego 2011 r. o opiece nad dziećmi w wieku do lat 3.", ""),
		a("Mapa do celów projektowych i wypis z ewidencji gruntów", 15, []string{"geodesy_data"},
			[]string{"mapa zasadnicza", "wypis z rejestru gruntów", "działka", "geodezja", "mapa do celów projektowych"},
			"geodesy", "Dział Udostępniania Danych",
			"1. Złóż wniosek o udostępnienie materiałów zasobu geodezyjnego i kartograficznego.\n2. Opłać należność wskazaną w dokumencie obliczenia opłaty.\n3. Odbierz materiały osobiście lub elektronicznie.",
			"do 10 dni roboczych", "Łódzki Ośrodek Geodezji, ul. Traugutta 21/23", Fees{StampDuty: noFees, Other: "według ustawy – Prawo geodezyjne i kartograficzne"},
			submit("Wniosek o udostępnienie materiałów zasobu (P)"), "", "Ustawa z dnia 17 maja 1989 r. – Prawo geodezyjne i kartograficzne.", ""),
	}
	internal := a("Procedura ogólna: sprawa spoza właściwości miasta", 10, []string{"out_of_scope"},
		[]string{"poza właściwością", "inna instytucja", "przekazanie"}, "", "Wydział Zarządzania Kontaktami z Mieszkańcami",
		"1. Ustal instytucję właściwą (ZUS, NFZ, policja, administracja osiedla, zarządca drogi krajowej).\n2. Podaj mieszkańcowi jej dane kontaktowe.\n3. Oznacz zgłoszenie jako poza zakresem, przekaż i zamknij.",
		"od ręki", "", Fees{StampDuty: noFees, Other: noFees}, nil,
		"Lista telefonów instytucji zewnętrznych jest w załączniku wewnętrznym; nie podawaj numerów prywatnych.", "Zarządzenie Nr 8797/VII/18 Prezydenta Miasta Łodzi, § 10.", "")
	internal.Internal = true
	out = append(out, internal)
	old := a("Dowód osobisty – zasady obowiązujące do 2019 r.", 0, []string{"id_card"},
		[]string{"dowód osobisty", "stary dowód"}, "civil_affairs", "Oddział Dowodów Osobistych",
		"Procedura wydawania dowodów osobistych bez warstwy elektronicznej, obowiązująca do 3 marca 2019 r.",
		"do 30 dni", lodz, Fees{StampDuty: noFees, Other: noFees}, nil, "", "Ustawa z dnia 6 sierpnia 2010 r. o dowodach osobistych (stan do 2019 r.).", "")
	old.ValidFrom, old.ValidTo, old.ProducedOn = "2015-01-01", "2019-03-03", "2014-12-01"
	out = append(out, old)
	return out
}
