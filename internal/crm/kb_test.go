package crm_test

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"kontakt/internal/crm"
)

func seeded(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	if err := crm.SeedDemo(e.ctx, e.tx); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) search(q string, extra string) resp {
	e.t.Helper()
	return e.must(e.do(&e.consultant, "GET", "/api/v1/articles?q="+url.QueryEscape(q)+extra, nil), 200)
}

// Polish queries, with and without diacritics, inflected and mistyped, find the right article first.
func TestSearchPolish(t *testing.T) {
	e := seeded(t)
	cases := []struct {
		q, want string
	}{
		{"dowód osobisty", "Dowód osobisty – wydanie i wymiana"},
		{"dowodu osobistego", "Dowód osobisty – wydanie i wymiana"},
		{"dowod", "Dowód osobisty – wydanie i wymiana"},
		{"DOWÓD", "Dowód osobisty – wydanie i wymiana"},
		{"wymiana dowodu", "Dowód osobisty – wydanie i wymiana"},
		{"zgubiłem dowód", "Utrata lub uszkodzenie dowodu osobistego"},
		{"odpadów wielkogabarytowych", "Odbiór odpadów wielkogabarytowych"},
		{"odpady wielkogabarytowe", "Odbiór odpadów wielkogabarytowych"},
		{"smieci", "Odbiór śmieci – harmonogram i reklamacje"},
		{"opłata za śmieci", "Deklaracja o wysokości opłaty za gospodarowanie odpadami komunalnymi"},
		{"oplata za smieci", "Deklaracja o wysokości opłaty za gospodarowanie odpadami komunalnymi"},
		{"zameldowanie", "Zameldowanie na pobyt stały"},
		{"zameldowanei", "Zameldowanie na pobyt stały"},
		{"meldunek czasowy", "Zameldowanie na pobyt czasowy"},
		{"dziura w jezdni", "Dziura w jezdni lub uszkodzony chodnik – zgłoszenie"},
		{"dziury w drodze", "Dziura w jezdni lub uszkodzony chodnik – zgłoszenie"},
		{"bezpański pies", "Bezpański pies lub kot – zgłoszenie"},
		{"bezpanskiego psa", "Bezpański pies lub kot – zgłoszenie"},
		{"wycinka drzewa", "Zezwolenie na wycinkę drzew lub krzewów"},
		{"mieszkanie komunalne", "Najem mieszkania komunalnego – wniosek"},
		{"mieszkania komunalnego", "Najem mieszkania komunalnego – wniosek"},
		{"karta parkingowa", "Karta parkingowa dla osoby niepełnosprawnej"},
		{"abonament komunikacji miejskiej", "Abonament komunikacji miejskiej – bilet okresowy"},
		{"bilet miesieczny", "Abonament komunikacji miejskiej – bilet okresowy"},
		{"podatek od nieruchomosci", "Podatek od nieruchomości dla osób fizycznych"},
		{"wielkogabarytwe", "Odbiór odpadów wielkogabarytowych"},
		{"żłobek", "Zapisy do żłobka miejskiego"},
	}
	for _, c := range cases {
		r := e.search(c.q, "")
		if got := r.str("items.0.title"); got != c.want {
			var titles []string
			for i := 0; i < 3; i++ {
				titles = append(titles, r.str("items."+itoa(int64(i))+".title"))
			}
			t.Errorf("%q: first %q, want %q (top 3: %q)", c.q, got, c.want, titles)
		}
	}
}

// Expired articles are hidden from consultants unless asked for; internal ones are staff only.
func TestExpiredAndInternal(t *testing.T) {
	e := seeded(t)
	const old = "Dowód osobisty – zasady obowiązujące do 2019 r."
	has := func(r resp, title string) bool {
		for _, it := range r.get("items").([]any) {
			if it.(map[string]any)["title"] == title {
				return true
			}
		}
		return false
	}
	if has(e.search("dowód osobisty", "&limit=50"), old) {
		t.Fatal("an expired article is shown by default")
	}
	r := e.search("dowód osobisty", "&limit=50&include_expired=true")
	if !has(r, old) {
		t.Fatalf("include_expired does not show it: %s", r.Body)
	}
	const internal = "Procedura ogólna: sprawa spoza właściwości miasta"
	if !has(e.search("poza właściwością", ""), internal) {
		t.Fatal("staff do not find the internal article")
	}
	pub := e.must(e.do(nil, "GET", "/public/v1/articles?q="+url.QueryEscape("poza właściwością"), nil), 200)
	if has(pub, internal) {
		t.Fatalf("residents find the internal article: %s", pub.Body)
	}
	id := e.search("poza właściwością", "").num("items.0.id")
	e.refused(e.do(nil, "GET", "/public/v1/articles/"+itoa(int64(id)), nil), http.StatusNotFound, "not_found")
	oldID := e.search("dowód osobisty", "&limit=50&include_expired=true")
	for _, it := range oldID.get("items").([]any) {
		m := it.(map[string]any)
		if m["title"] == old {
			if m["expired"] != true {
				t.Fatalf("not marked expired: %v", m)
			}
			e.refused(e.do(nil, "GET", "/public/v1/articles/"+itoa(int64(m["id"].(float64))), nil), http.StatusNotFound, "not_found")
		}
	}
}

// The information for the consultant never leaves the staff API.
func TestStaffOnlyFieldsNeverPublic(t *testing.T) {
	e := seeded(t)
	staff := e.search("dowód osobisty", "")
	id := itoa(int64(staff.num("items.0.id")))
	full := e.must(e.do(&e.consultant, "GET", "/api/v1/articles/"+id, nil), 200)
	secret := full.str("consultant_info")
	if !strings.Contains(secret, "42 638 40 00") {
		t.Fatalf("staff see the information for the consultant: %s", full.Body)
	}
	for _, path := range []string{"/public/v1/articles/" + id, "/public/v1/articles?q=dow%C3%B3d", "/public/v1/articles?q=kierownik+oddzia%C5%82u",
		"/public/v1/articles?q=" + url.QueryEscape(secret), "/public/v1/articles"} {
		r := e.must(e.do(nil, "GET", path, nil), 200)
		for _, leak := range []string{"consultant_info", "42 638 40 00", `"internal"`} {
			if bytes.Contains(r.Body, []byte(leak)) {
				t.Errorf("%s shows %q: %s", path, leak, r.Body)
			}
		}
	}
	// A search on words only the consultant information contains finds nothing for residents.
	r := e.must(e.do(nil, "GET", "/public/v1/articles?q="+url.QueryEscape("kierownik oddziału rezerwacja"), nil), 200)
	for _, it := range r.get("items").([]any) {
		if it.(map[string]any)["title"] == "Dowód osobisty – wydanie i wymiana" {
			t.Errorf("the consultant information is searchable by residents: %s", r.Body)
		}
	}
	// The public types have no staff-only fields at all.
	for _, typ := range []reflect.Type{reflect.TypeOf(crm.PublicArticle{}), reflect.TypeOf(crm.PublicArticleSummary{})} {
		for i := 0; i < typ.NumField(); i++ {
			if tag := typ.Field(i).Tag.Get("json"); strings.HasPrefix(tag, "consultant_info") || strings.HasPrefix(tag, "internal") {
				t.Errorf("%s has the staff-only field %s", typ, tag)
			}
		}
	}
}

// Articles are edited by administrators, each save a new version, a stale edit refused.
func TestArticleVersions(t *testing.T) {
	e := seeded(t)
	body := map[string]any{"title": "Rejestracja psa", "valid_from": "2026-01-01", "keywords": []string{"pies", "rejestracja"},
		"categories": []string{"stray_animal"}, "handling": "1. Wypełnij wniosek.", "consultant_info": "tylko dla nas",
		"handlers": []string{"A", "B"}, "documents": []map[string]any{{"name": "Wniosek", "kind": "submit"}}, "edoc": true}
	e.refused(e.do(&e.consultant, "POST", "/api/v1/articles", body), http.StatusForbidden, "forbidden")
	r := e.must(e.do(&e.admin, "POST", "/api/v1/articles", body), http.StatusCreated)
	id := itoa(int64(r.num("id")))
	if r.num("version") != 1 || r.str("categories.0") != "stray_animal" {
		t.Fatalf("created: %s", r.Body)
	}
	body["title"], body["version"] = "Rejestracja psa w gminie", 1
	r = e.must(e.do(&e.admin, "PUT", "/api/v1/articles/"+id, body), 200)
	if r.num("version") != 2 {
		t.Fatalf("updated: %s", r.Body)
	}
	e.refused(e.do(&e.admin, "PUT", "/api/v1/articles/"+id, body), http.StatusConflict, "conflict")
	vs := e.must(e.do(&e.consultant, "GET", "/api/v1/articles/"+id+"/versions", nil), 200)
	if vs.num("items.0.version") != 2 || vs.str("items.1.title") != "Rejestracja psa" {
		t.Fatalf("versions: %s", vs.Body)
	}
	v1 := e.must(e.do(&e.consultant, "GET", "/api/v1/articles/"+id+"/versions/1", nil), 200)
	if v1.str("title") != "Rejestracja psa" {
		t.Fatalf("version 1: %s", v1.Body)
	}
	if got := e.search("rejestracja psa w gminie", "").str("items.0.title"); got != "Rejestracja psa w gminie" {
		t.Fatalf("search after update finds %q", got)
	}
	// Withdrawn: gone from searches, still there by id, as version 3.
	e.refused(e.do(&e.consultant, "DELETE", "/api/v1/articles/"+id, nil), http.StatusForbidden, "forbidden")
	r = e.must(e.do(&e.admin, "DELETE", "/api/v1/articles/"+id, nil), 200)
	if r.num("version") != 3 || r.get("expired") != true || r.str("valid_to") != "2026-05-03" {
		t.Fatalf("withdrawn: %s", r.Body)
	}
	if got := e.search("rejestracja psa w gminie", "").str("items.0.title"); got == "Rejestracja psa w gminie" {
		t.Fatal("a withdrawn article is still found")
	}
	e.must(e.do(&e.consultant, "GET", "/api/v1/articles/"+id, nil), 200)
	e.refused(e.do(&e.admin, "DELETE", "/api/v1/articles/999999", nil), http.StatusNotFound, "not_found")
	// Field-level validation of all 26 fields' rules at once.
	handlers := make([]string, 51)
	for i := range handlers {
		handlers[i] = "x"
	}
	r = e.do(&e.admin, "POST", "/api/v1/articles", map[string]any{"title": "x", "valid_from": "2026-02-30", "valid_to": "2025-01-01",
		"handlers": handlers, "categories": []string{"nope"}, "unit": "nope", "documents": []map[string]any{{"name": "", "kind": "paper"}},
		"related": []int{999999}})
	e.refused(r, http.StatusUnprocessableEntity, "validation")
	var fields []string
	for _, f := range r.get("error.fields").([]any) {
		fields = append(fields, f.(map[string]any)["field"].(string))
	}
	for _, want := range []string{"title", "valid_from", "handlers", "categories", "unit", "documents[0].name", "documents[0].kind", "related"} {
		found := false
		for _, f := range fields {
			found = found || f == want
		}
		if !found {
			t.Errorf("field %s not reported: %v", want, fields)
		}
	}
}

// Suggestions by category, and the article used on a ticket.
func TestSuggestionsByCategoryAndArticleUsed(t *testing.T) {
	e := seeded(t)
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/articles/suggestions?category=id_card", nil), 200)
	if r.str("items.0.title") != "Dowód osobisty – wydanie i wymiana" {
		t.Fatalf("suggestions: %s", r.Body)
	}
	for _, it := range r.get("items").([]any) {
		if it.(map[string]any)["expired"] == true {
			t.Fatalf("an expired article suggested: %s", r.Body)
		}
	}
	id := e.create(&e.consultant, map[string]any{"channel": "email", "category": "id_card", "description": "Wymiana dowodu"})
	aid := r.num("items.0.id")
	e.must(e.do(&e.consultant, "POST", "/api/v1/tickets/"+id+"/articles", map[string]any{"article_id": aid}), http.StatusNoContent)
	e.must(e.do(&e.consultant, "POST", "/api/v1/tickets/"+id+"/articles", map[string]any{"article_id": aid}), http.StatusNoContent)
	used := e.must(e.do(&e.consultant, "GET", "/api/v1/tickets/"+id+"/articles", nil), 200)
	if len(used.get("items").([]any)) != 1 || used.num("items.0.id") != aid {
		t.Fatalf("used: %s", used.Body)
	}
	if h := e.history(id); len(h) != 2 || h[1] != "article_used" {
		t.Fatalf("history %v", h)
	}
	r = e.do(&e.consultant, "POST", "/api/v1/tickets/"+id+"/articles", map[string]any{"article_id": 999999})
	e.refused(r, http.StatusUnprocessableEntity, "validation")
}

func TestUnitsAndCategories(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do(&e.consultant, "GET", "/api/v1/units", nil), 200)
	names := map[string]string{}
	for _, it := range r.get("items").([]any) {
		m := it.(map[string]any)
		names[m["code"].(string)] = m["name"].(string)
	}
	for code, name := range map[string]string{"geodesy": "Łódzki Ośrodek Geodezji", "nurseries": "Miejski Zespół Żłobków w Łodzi",
		"animal_shelter": "Schronisko dla Zwierząt", "city_guard": "Straż Miejska w Łodzi", "roads_transport": "Zarząd Dróg i Transportu",
		"waste_management": "Zarząd Gospodarowania Odpadami", "municipal_housing": "Zarząd Lokali Miejskich",
		"green_areas": "Zarząd Zieleni Miejskiej w Łodzi"} {
		if names[code] != name {
			t.Errorf("unit %s: %q, want %q", code, names[code], name)
		}
	}
	c := e.must(e.do(&e.consultant, "GET", "/api/v1/categories/pothole", nil), 200)
	if c.str("unit") != "roads_transport" || c.str("due") != "3d" || c.str("kind") != "intervention" {
		t.Fatalf("pothole: %s", c.Body)
	}
	e.refused(e.do(&e.consultant, "POST", "/api/v1/categories", map[string]any{"code": "x1", "name": "X", "kind": "information"}), http.StatusForbidden, "forbidden")
	r = e.do(&e.admin, "POST", "/api/v1/categories", map[string]any{"code": "Bad Code", "name": "", "kind": "intervention", "due": "3w"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad category: %s", r.Body)
	}
	r = e.must(e.do(&e.admin, "POST", "/api/v1/categories", map[string]any{"code": "playground", "name": "Zniszczony plac zabaw",
		"kind": "intervention", "unit": "green_areas", "due": "5d", "group": "Zieleń"}), http.StatusCreated)
	e.must(e.do(&e.admin, "PUT", "/api/v1/units/green_areas", map[string]any{"name": "Zarząd Zieleni Miejskiej w Łodzi", "short_name": "ZZM",
		"email": "zzm@example.pl"}), 200)
	e.refused(e.do(&e.admin, "PUT", "/api/v1/units/nowhere", map[string]any{"name": "X"}), http.StatusNotFound, "not_found")
}

func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do(nil, "GET", "/api/v1/openapi.yaml", nil), 200)
	doc := string(r.Body)
	if !strings.HasPrefix(doc, "openapi: 3.1.0") {
		t.Fatalf("not an OpenAPI 3.1 document")
	}
	for _, path := range []string{"/api/v1/tickets:", "/api/v1/tickets/{ref}:", "/api/v1/tickets/{ref}/actions:", "/api/v1/tickets/{ref}/history:",
		"/api/v1/tickets/{ref}/link:", "/api/v1/tickets/{ref}/articles:", "/api/v1/tickets/suggestions:", "/api/v1/screen-pop:",
		"/api/v1/units:", "/api/v1/units/{code}:", "/api/v1/categories:", "/api/v1/categories/{code}:", "/api/v1/articles:",
		"/api/v1/articles/suggestions:", "/api/v1/articles/{id}:", "/api/v1/articles/{id}/versions:",
		"/api/v1/articles/{id}/versions/{version}:", "/api/v1/open311-clients:", "/public/v1/articles:", "/public/v1/articles/{id}:",
		"/open311/v2/services.{format}:", "/open311/v2/services/{code}.{format}:", "/open311/v2/requests.{format}:",
		"/open311/v2/requests/{id}.{format}:", "/open311/v2/tokens/{token}.{format}:"} {
		if !strings.Contains(doc, "\n  "+path+"\n") {
			t.Errorf("the document does not describe %s", strings.TrimSuffix(path, ":"))
		}
	}
}

// SeedDemo twice writes nothing the second time.
func TestSeedDemoIdempotent(t *testing.T) {
	e := seeded(t)
	count := func() (n [3]int) {
		for i, q := range []string{`SELECT count(*) FROM articles`, `SELECT count(*) FROM tickets`, `SELECT count(*) FROM open311_clients`} {
			if err := e.tx.QueryRow(e.ctx, q).Scan(&n[i]); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	before := count()
	if err := crm.SeedDemo(e.ctx, e.tx); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before || before[0] < 30 || before[1] < 5 || before[2] != 1 {
		t.Fatalf("articles, tickets, clients: %v then %v", before, after)
	}
}

func TestOpen311Clients(t *testing.T) {
	e := newEnv(t)
	e.refused(e.do(&e.supervisor, "POST", "/api/v1/open311-clients", map[string]any{"name": "Aplikacja", "channel": "mobile_app"}),
		http.StatusForbidden, "forbidden")
	r := e.do(&e.admin, "POST", "/api/v1/open311-clients", map[string]any{"name": "A", "channel": "email"})
	e.refused(r, http.StatusUnprocessableEntity, "validation")
	r = e.must(e.do(&e.admin, "POST", "/api/v1/open311-clients", map[string]any{"name": "Aplikacja", "channel": "mobile_app"}), http.StatusCreated)
	key := r.str("api_key")
	c, err := e.svc.Open311ClientByKey(e.ctx, key)
	if err != nil || c.Name != "Aplikacja" || len(key) < 20 {
		t.Fatalf("client by key: %+v %v (%s)", c, err, r.Body)
	}
	e.refused(e.do(&e.admin, "POST", "/api/v1/open311-clients", map[string]any{"name": "Aplikacja", "channel": "web_form"}),
		http.StatusConflict, "conflict")
}
