package crm_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/internal/crm"
	"kontakt/internal/testenv"
	"kontakt/internal/textpl"
	"kontakt/internal/ticket"
)

// The benchmarks run on their own database with 1,000,000 tickets and 10,000 articles generated
// by SQL (once per test binary), and report each operation's latency percentiles.
const (
	benchTickets  = 1_000_000
	benchArticles = 10_000
	benchPhones   = 200_000
)

var (
	benchOnce  sync.Once
	benchPool  *pgxpool.Pool
	benchErr   error
	benchProbe []probe
)

// probe is an existing ticket the benchmarks look up.
type probe struct {
	id     ticket.ID
	number ticket.Number
	phone  string
}

func benchDB(b *testing.B) (*pgxpool.Pool, []probe) {
	b.Helper()
	pool := testenv.DB(b, "kontakt_bench_crm")
	benchOnce.Do(func() {
		start := time.Now()
		benchErr = generate(context.Background(), pool)
		b.Logf("generated %d tickets and %d articles in %v", benchTickets, benchArticles, time.Since(start).Round(time.Second))
		if benchErr != nil {
			return
		}
		rows, err := pool.Query(context.Background(), `SELECT id, number, caller_phone FROM tickets TABLESAMPLE SYSTEM (1)
			WHERE caller_phone IS NOT NULL LIMIT 2000`)
		if err != nil {
			benchErr = err
			return
		}
		for rows.Next() {
			var p probe
			var n string
			if err := rows.Scan(&p.id, &n, &p.phone); err != nil {
				benchErr = err
				return
			}
			p.number, _ = ticket.ParseNumber(n)
			benchProbe = append(benchProbe, p)
		}
		rows.Close()
		benchPool = pool
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPool, benchProbe
}

// generate fills the database: the demo seed, then articles made of the demo articles' words and
// made-up ones (so that Polish queries hit a realistic share of them), then tickets over the categories, 200
// streets and 200,000 phone numbers, across 2025 and 2026 (after the demo's own tickets). The ticket indexes are dropped during
// the load and built after it.
func generate(ctx context.Context, pool *pgxpool.Pool) error {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&n); err != nil {
		return err
	}
	if n >= benchTickets {
		return nil
	}
	if err := crm.SeedDemo(ctx, pool); err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, s := range []string{`SET maintenance_work_mem = '512MB'`, `SET work_mem = '64MB'`, `SET synchronous_commit = off`} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	// The vocabulary: every word of the demo articles, with its stem and folded form.
	var words, stems []string
	seen := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT title || ' ' || array_to_string(keywords, ' ') || ' ' || handling FROM articles`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return err
		}
		for _, w := range textpl.Tokens(text) {
			if seen[w] || textpl.IsStopWord(w) || len(w) < 3 {
				continue
			}
			seen[w] = true
			words, stems = append(words, w), append(stems, textpl.Stem(w))
		}
	}
	rows.Close()
	// A real knowledge base has far more words than the demo's: made-up Polish-looking words,
	// common ones much more often than rare ones, fill most of each generated article.
	var synth, synthStems []string
	syl := []string{"pra", "wo", "ni", "ka", "sze", "ło", "rzy", "ba", "mi", "to", "le", "dy", "go", "cie", "stwo", "ska",
		"wie", "na", "po", "ro", "za", "dzi", "mo", "su", "tra", "kre", "bli", "żo", "chy", "gra", "wy", "ści"}
	rnd := rand.New(rand.NewPCG(7, 11))
	seenSynth := map[string]bool{}
	for len(synth) < 30_000 {
		w := ""
		for n := 2 + rnd.IntN(3); n > 0; n-- {
			w += syl[rnd.IntN(len(syl))]
		}
		w = textpl.Normalize(w)
		if seen[w] || seenSynth[w] {
			continue
		}
		seenSynth[w] = true
		synth, synthStems = append(synth, w), append(synthStems, textpl.Stem(w))
	}
	steps := []string{
		`INSERT INTO articles (title, valid_from, valid_to, keywords, handling, search, search_head, title_keywords, use_count, internal)
		SELECT initcap(t.title), '2024-01-01', CASE WHEN g % 20 = 0 THEN date '2025-01-01' END, t.kw, t.body,
			setweight(to_tsvector('simple', t.tstem), 'A') || setweight(to_tsvector('simple', t.kstem), 'B')
				|| setweight(to_tsvector('simple', t.bstem), 'C'),
			setweight(to_tsvector('simple', t.tstem), 'A') || setweight(to_tsvector('simple', t.kstem), 'B'),
			t.title || ' ' || array_to_string(t.kw, ' '), (random() * 200)::int, g % 50 = 0
		FROM generate_series(1, $5::int) g
		CROSS JOIN LATERAL (SELECT 3 + g % 5 AS nt, 80 + g % 40 AS nb) n
		CROSS JOIN LATERAL (
			SELECT string_agg(w, ' ') FILTER (WHERE i <= n.nt) AS title, string_agg(st, ' ') FILTER (WHERE i <= n.nt) AS tstem,
				array_agg(w) FILTER (WHERE i > n.nt AND i <= n.nt + 3) AS kw,
				string_agg(st, ' ') FILTER (WHERE i > n.nt AND i <= n.nt + 3) AS kstem,
				string_agg(w, ' ') FILTER (WHERE i > n.nt + 3) AS body, string_agg(st, ' ') FILTER (WHERE i > n.nt + 3) AS bstem
			FROM (SELECT i, CASE WHEN r.seed THEN ($1::text[])[r.k1] ELSE ($3::text[])[r.k2] END AS w,
					CASE WHEN r.seed THEN ($2::text[])[r.k1] ELSE ($4::text[])[r.k2] END AS st
				FROM generate_series(1, n.nt + 3 + n.nb) i,
				LATERAL (SELECT random() < CASE WHEN i <= n.nt + 3 THEN 0.5 ELSE 0.2 END AS seed,
					1 + floor(random() * cardinality($1::text[]))::int AS k1,
					1 + floor(cardinality($3::text[]) * random() ^ 3)::int AS k2) r) s) t`,
		`INSERT INTO article_categories (category_id, article_id)
		SELECT (SELECT array_agg(id) FROM categories)[1 + (a.id % (SELECT count(*) FROM categories))::int], a.id
		FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_categories ac WHERE ac.article_id = a.id)`,
	}
	for i, s := range steps {
		args := []any{}
		if i == 0 {
			args = []any{words, stems, synth, synthStems, benchArticles}
		}
		if _, err := conn.Exec(ctx, s, args...); err != nil {
			return fmt.Errorf("articles: %w", err)
		}
	}
	// Drop the ticket indexes that are not constraints, load, build them again.
	var defs []string
	rows, err = conn.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.tablename = 'tickets' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, name := range names {
		if _, err := conn.Exec(ctx, `DROP INDEX `+name); err != nil {
			return err
		}
	}
	load := `WITH cats AS (SELECT array_agg(id ORDER BY id) AS id, array_agg(code ORDER BY id) AS code, array_agg(kind ORDER BY id) AS kind,
			array_agg(coalesce(unit_id, 0) ORDER BY id) AS unit, array_agg(due ORDER BY id) AS due FROM categories WHERE kind <> 'out_of_scope'),
		streets AS (SELECT array_agg(s) AS s FROM (SELECT DISTINCT street FROM (VALUES ('Piotrkowska'), ('Zgierska'), ('Narutowicza'),
			('Kościuszki'), ('Włókniarzy'), ('Rzgowska'), ('Pabianicka'), ('Limanowskiego'), ('Aleksandrowska'), ('Kopcińskiego')) v(street)
			UNION SELECT 'Ulica ' || g FROM generate_series(1, 190) g) x(s))
	INSERT INTO tickets (number, kind, status, channel, category_id, category, unit_id, caller_phone, description, created_at, updated_at,
		closed_at, due_at, forwarded_at, street, street_key, house_number, address, lat, lon)
	SELECT format('%s/%s', y, lpad(seq::text, 6, '0')), c.kind, st.status, ch.channel, c.id, c.code,
		CASE WHEN st.status IN ('forwarded', 'resolved_by_unit', 'closed') AND c.unit <> 0 THEN c.unit END,
		'+48' || (600000000 + (hashint8(g) & 2147483647) % $1::int), 'Zgłoszenie ' || g, at, at,
		CASE WHEN st.status = 'closed' THEN at + interval '2 days' END,
		at + interval '3 days', CASE WHEN st.status IN ('forwarded', 'resolved_by_unit') THEN at END,
		s.street, lower(s.street), (1 + g % 200)::text, s.street || ' ' || (1 + g % 200),
		CASE WHEN g % 3 <> 0 THEN 51.70 + (hashint8(g * 7) & 65535) / 65535.0 * 0.12 END,
		CASE WHEN g % 3 <> 0 THEN 19.36 + (hashint8(g * 11) & 65535) / 65535.0 * 0.20 END
	FROM generate_series(1, $2::int) g
	CROSS JOIN cats CROSS JOIN streets
	CROSS JOIN LATERAL (SELECT CASE WHEN g <= $2::int / 2 THEN 2025 ELSE 2026 END AS y,
		CASE WHEN g <= $2::int / 2 THEN g ELSE g - $2::int / 2 + 1000 END AS seq,
		timestamptz '2025-01-01 08:00+01' + (g::float8 / $2::int) * interval '485 days' AS at) t
	CROSS JOIN LATERAL (SELECT cats.id[i] AS id, cats.code[i] AS code, cats.kind[i] AS kind, cats.unit[i] AS unit
		FROM (SELECT 1 + (g % cardinality(cats.id)) AS i) x) c
	CROSS JOIN LATERAL (SELECT streets.s[1 + (hashint8(g * 3) & 2147483647) % cardinality(streets.s)] AS street) s
	CROSS JOIN LATERAL (SELECT CASE WHEN g > $2::int - 20000 THEN (ARRAY['new', 'in_progress', 'forwarded', 'resolved_by_unit'])[1 + g % 4]
		WHEN c.unit = 0 AND g % 7 = 0 THEN 'in_progress' ELSE 'closed' END AS status) st0
	CROSS JOIN LATERAL (SELECT CASE WHEN st0.status IN ('forwarded', 'resolved_by_unit') AND c.unit = 0 THEN 'in_progress' ELSE st0.status END AS status) st
	CROSS JOIN LATERAL (SELECT (ARRAY['phone', 'phone', 'phone', 'web_form', 'mobile_app', 'email', 'chat'])[1 + g % 7] AS channel) ch`
	if _, err := conn.Exec(ctx, load, benchPhones, benchTickets); err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	for _, def := range defs {
		if _, err := conn.Exec(ctx, def); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	for _, s := range []string{
		`INSERT INTO ticket_counters (year, last) VALUES (2025, $1::int / 2), (2026, $1::int / 2 + 1000)
			ON CONFLICT (year) DO UPDATE SET last = greatest(ticket_counters.last, excluded.last)`,
		// Vacuumed now, so that autovacuum does not wake up during the measurements.
		`VACUUM (ANALYZE) tickets`, `VACUUM (ANALYZE) articles`, `VACUUM (ANALYZE) article_categories`,
	} {
		args := []any{}
		if strings.HasPrefix(s, "INSERT") {
			args = []any{benchTickets}
		}
		if _, err := conn.Exec(ctx, s, args...); err != nil {
			return err
		}
	}
	return nil
}

// latencies collects each operation's time and reports the percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	at := func(q float64) float64 {
		return float64(l[min(len(l)-1, int(q*float64(len(l))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}

func benchService(pool *pgxpool.Pool) *crm.Service {
	return crm.New(pool, crm.Options{Location: warsaw, Now: func() time.Time { return monday }})
}

var supervisor = ticket.Actor{Role: ticket.RoleSupervisor, User: 1}

func BenchmarkTicketByNumber(b *testing.B) {
	pool, probes := benchDB(b)
	svc, ctx := benchService(pool), context.Background()
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := probes[i%len(probes)]
		start := time.Now()
		t, err := svc.TicketByNumber(ctx, supervisor, p.number)
		lat = append(lat, time.Since(start))
		if err != nil || t.ID != p.id {
			b.Fatalf("%s: %v", p.number, err)
		}
	}
	lat.report(b)
}

func BenchmarkTicketsByCallerPhone(b *testing.B) {
	pool, probes := benchDB(b)
	svc, ctx := benchService(pool), context.Background()
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := probes[i%len(probes)]
		start := time.Now()
		page, err := svc.ListTickets(ctx, supervisor, crm.Filter{CallerPhone: p.phone, Limit: 20})
		lat = append(lat, time.Since(start))
		if err != nil || len(page.Items) == 0 {
			b.Fatalf("%s: %v", p.phone, err)
		}
	}
	lat.report(b)
}

func BenchmarkScreenPop(b *testing.B) {
	pool, probes := benchDB(b)
	svc, ctx := benchService(pool), context.Background()
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := probes[i%len(probes)]
		start := time.Now()
		sp, err := svc.ScreenPop(ctx, p.id, p.phone)
		lat = append(lat, time.Since(start))
		if err != nil || sp.Ticket == nil || len(sp.Articles) == 0 {
			b.Fatalf("%d: %v", p.id, err)
		}
	}
	lat.report(b)
}

// benchQueries are what consultants type: inflected, without diacritics, mistyped, one word or
// several.
var benchQueries = []string{
	"dowód osobisty", "dowodu osobistego", "wymiana dowodu", "zameldowanie", "zameldowanei", "odpadów wielkogabarytowych",
	"smieci", "opłata za śmieci", "dziura w jezdni", "bezpański pies", "wycinka drzew", "mieszkanie komunalne",
	"karta parkingowa", "abonament komunikacji miejskiej", "podatek od nieruchomosci", "zlobek", "wielkogabarytwe",
	"jak zgłosić zgubiony dowód", "harmonogram wywozu", "strefa płatnego parkowania",
}

func BenchmarkArticleSearch(b *testing.B) {
	pool, _ := benchDB(b)
	svc, ctx := benchService(pool), context.Background()
	lat := make(latencies, 0, b.N)
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := benchQueries[r.IntN(len(benchQueries))]
		start := time.Now()
		hits, err := svc.SearchArticles(ctx, crm.ArticleQuery{Q: q})
		lat = append(lat, time.Since(start))
		if err != nil || len(hits) == 0 {
			b.Fatalf("%q: %d hits, %v", q, len(hits), err)
		}
	}
	lat.report(b)
}

// The demo articles still come first among 10,000 generated ones.
func BenchmarkArticleSearchQuality(b *testing.B) {
	pool, _ := benchDB(b)
	svc, ctx := benchService(pool), context.Background()
	for i := 0; i < b.N; i++ {
		hits, err := svc.SearchArticles(ctx, crm.ArticleQuery{Q: "wymiana dowodu"})
		if err != nil {
			b.Fatal(err)
		}
		titles := make([]string, 0, len(hits))
		for _, h := range hits {
			titles = append(titles, h.Title)
		}
		if !slices.Contains(titles[:min(3, len(titles))], "Dowód osobisty – wydanie i wymiana") {
			b.Fatalf("wymiana dowodu: %q", titles)
		}
	}
}
