package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/textpl"
	"kontakt/internal/ticket"
)

// Fees is field 13 of the template: stamp duty, other fees, and the bank accounts to pay them to.
type Fees struct {
	StampDuty        string `json:"stamp_duty"`
	Other            string `json:"other"`
	StampDutyAccount string `json:"stamp_duty_account"`
	OtherAccount     string `json:"other_account"`
}

// Document is one required document (field 14): to show (view) or to hand in (submit), with its
// template and electronic form.
type Document struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	TemplateURL string `json:"template_url,omitempty"`
	EFormURL    string `json:"eform_url,omitempty"`
}

// ArticleFields are the 26 fields of the Łódź knowledge-base template (Zarządzenie Nr
// 8797/VII/18, attachment 2), as an editor writes them. Dates are YYYY-MM-DD.
type ArticleFields struct {
	Title           string     `json:"title"`            // 1 nazwa procedury
	Internal        bool       `json:"internal"`         // 2 procedura wewnętrzna (staff only)
	Related         []int64    `json:"related"`          // 3 powiązane procedury (article ids)
	ValidFrom       string     `json:"valid_from"`       // 4 obowiązuje od
	ValidTo         string     `json:"valid_to"`         // 5 obowiązuje do ("" open-ended)
	ProducedOn      string     `json:"produced_on"`      // 6 data wytworzenia informacji
	Keywords        []string   `json:"keywords"`         // 7 słowa kluczowe
	Categories      []string   `json:"categories"`       // 8 kategorie (codes)
	Handling        string     `json:"handling"`         // 9 sposób załatwienia sprawy, step by step
	Supplementary   string     `json:"supplementary"`    // 10 informacje uzupełniające
	TimeLimit       string     `json:"time_limit"`       // 11 termin realizacji
	Place           string     `json:"place"`            // 12 miejsce załatwienia
	Fees            Fees       `json:"fees"`             // 13 opłaty
	Documents       []Document `json:"documents"`        // 14 wymagane dokumenty
	ConsultantInfo  string     `json:"consultant_info"`  // 15 informacje dla konsultanta (staff only)
	LegalBasis      string     `json:"legal_basis"`      // 16 podstawa prawna
	Appeal          string     `json:"appeal"`           // 17 tryb odwoławczy
	ReuseConditions string     `json:"reuse_conditions"` // 18 warunki ponownego wykorzystywania
	Owner           string     `json:"owner"`            // 19 właściciel (one person)
	Authors         []string   `json:"authors"`          // 20 osoby, które wytworzyły informację
	Coordinator     string     `json:"coordinator"`      // 21 koordynator (one person)
	Handlers        []string   `json:"handlers"`         // 22 realizatorzy (up to 50)
	Unit            string     `json:"unit"`             // 23 jednostka (unit code; "" city hall)
	Department      string     `json:"department"`       // 24 komórka
	DomainSystem    string     `json:"domain_system"`    // 25 integracja (system dziedzinowy)
	EDoc            bool       `json:"edoc"`             // 26 prowadzona w systemie EZD
}

// ArticleRef names a related article.
type ArticleRef struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

// Article is a knowledge-base article as the staff API shows it.
type Article struct {
	ID      int64 `json:"id"`
	Version int   `json:"version"`
	ArticleFields
	RelatedArticles []ArticleRef `json:"related_articles"`
	// Expired: not valid today (past valid_to, or before valid_from).
	Expired   bool      `json:"expired"`
	UseCount  int       `json:"use_count"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PublicArticle is an article as residents see it: without the fields for staff only (the
// information for the consultant, the internal flag: internal articles are never public).
// It is a separate type so that a staff-only field cannot leak by being forgotten.
type PublicArticle struct {
	ID              int64        `json:"id"`
	Version         int          `json:"version"`
	Title           string       `json:"title"`
	Related         []ArticleRef `json:"related"`
	ValidFrom       string       `json:"valid_from"`
	ValidTo         string       `json:"valid_to,omitempty"`
	ProducedOn      string       `json:"produced_on,omitempty"`
	Keywords        []string     `json:"keywords"`
	Categories      []string     `json:"categories"`
	Handling        string       `json:"handling"`
	Supplementary   string       `json:"supplementary,omitempty"`
	TimeLimit       string       `json:"time_limit,omitempty"`
	Place           string       `json:"place,omitempty"`
	Fees            Fees         `json:"fees"`
	Documents       []Document   `json:"documents"`
	LegalBasis      string       `json:"legal_basis,omitempty"`
	Appeal          string       `json:"appeal,omitempty"`
	ReuseConditions string       `json:"reuse_conditions,omitempty"`
	Owner           string       `json:"owner,omitempty"`
	Authors         []string     `json:"authors,omitempty"`
	Coordinator     string       `json:"coordinator,omitempty"`
	Handlers        []string     `json:"handlers,omitempty"`
	Unit            string       `json:"unit,omitempty"`
	Department      string       `json:"department,omitempty"`
	DomainSystem    string       `json:"domain_system,omitempty"`
	EDoc            bool         `json:"edoc"`
	UpdatedAt       time.Time    `json:"updated_at"`
}

// Public is the resident's view of a; internal related articles are left out.
func (a Article) Public() PublicArticle {
	related := []ArticleRef{}
	for _, r := range a.RelatedArticles {
		related = append(related, r)
	}
	return PublicArticle{
		ID: a.ID, Version: a.Version, Title: a.Title, Related: related, ValidFrom: a.ValidFrom,
		ValidTo: a.ValidTo, ProducedOn: a.ProducedOn, Keywords: a.Keywords, Categories: a.Categories,
		Handling: a.Handling, Supplementary: a.Supplementary, TimeLimit: a.TimeLimit, Place: a.Place,
		Fees: a.Fees, Documents: a.Documents, LegalBasis: a.LegalBasis, Appeal: a.Appeal,
		ReuseConditions: a.ReuseConditions, Owner: a.Owner, Authors: a.Authors, Coordinator: a.Coordinator,
		Handlers: a.Handlers, Unit: a.Unit, Department: a.Department, DomainSystem: a.DomainSystem,
		EDoc: a.EDoc, UpdatedAt: a.UpdatedAt,
	}
}

// ArticleSummary is an article in a list: search results, suggestions, the screen-pop.
type ArticleSummary struct {
	ID        int64    `json:"id"`
	Version   int      `json:"version"`
	Title     string   `json:"title"`
	Internal  bool     `json:"internal"`
	Keywords  []string `json:"keywords"`
	ValidFrom string   `json:"valid_from"`
	ValidTo   string   `json:"valid_to,omitempty"`
	Expired   bool     `json:"expired"`
	Excerpt   string   `json:"excerpt"`
	Score     float64  `json:"score,omitempty"`
}

// PublicArticleSummary is a search result for residents.
type PublicArticleSummary struct {
	ID       int64    `json:"id"`
	Title    string   `json:"title"`
	Keywords []string `json:"keywords"`
	Excerpt  string   `json:"excerpt"`
	Score    float64  `json:"score,omitempty"`
}

// Public is the resident's view of a summary.
func (a ArticleSummary) Public() PublicArticleSummary {
	return PublicArticleSummary{ID: a.ID, Title: a.Title, Keywords: a.Keywords, Excerpt: a.Excerpt, Score: a.Score}
}

const summaryColumns = `a.id, a.version, a.title, a.internal, a.keywords, to_char(a.valid_from, 'YYYY-MM-DD'),
	coalesce(to_char(a.valid_to, 'YYYY-MM-DD'), ''), left(a.handling, 240)`

func expired(validFrom, validTo, today string) bool {
	return validFrom > today || (validTo != "" && validTo < today)
}

func scanSummary(r pgx.Row, today string, extra ...any) (ArticleSummary, error) {
	var a ArticleSummary
	err := r.Scan(append([]any{&a.ID, &a.Version, &a.Title, &a.Internal, &a.Keywords, &a.ValidFrom, &a.ValidTo, &a.Excerpt}, extra...)...)
	a.Expired = expired(a.ValidFrom, a.ValidTo, today)
	a.Excerpt = excerpt(a.Excerpt)
	return a, err
}

func collectSummaries(rows pgx.Rows, today string) ([]ArticleSummary, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArticleSummary, error) { return scanSummary(r, today) })
	if out == nil {
		out = []ArticleSummary{}
	}
	return out, err
}

// excerpt cuts text to about 200 characters at a word boundary.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= 200 {
		return s
	}
	cut := string(r[:200])
	if i := strings.LastIndexByte(cut, ' '); i > 100 {
		cut = cut[:i]
	}
	return cut + "…"
}

const articleSelect = `SELECT a.id, a.version, a.title, a.internal, a.related_ids, to_char(a.valid_from, 'YYYY-MM-DD'),
	coalesce(to_char(a.valid_to, 'YYYY-MM-DD'), ''), coalesce(to_char(a.produced_on, 'YYYY-MM-DD'), ''), a.keywords,
	coalesce((SELECT array_agg(c.code ORDER BY c.code) FROM article_categories ac JOIN categories c ON c.id = ac.category_id
		WHERE ac.article_id = a.id), '{}'),
	a.handling, a.supplementary, a.time_limit, a.place, a.fee_stamp, a.fee_other, a.fee_stamp_account, a.fee_other_account,
	a.documents, a.consultant_info, a.legal_basis, a.appeal, a.reuse_conditions, a.owner_name, a.authors, a.coordinator,
	a.handlers, coalesce(u.code, ''), a.department, a.domain_system, a.edoc, a.use_count, a.created_at, a.updated_at
	FROM articles a LEFT JOIN units u ON u.id = a.unit_id `

func (s *Service) getArticle(ctx context.Context, db DB, id int64) (Article, error) {
	var a Article
	var docs []byte
	err := db.QueryRow(ctx, articleSelect+`WHERE a.id = $1`, id).Scan(&a.ID, &a.Version, &a.Title, &a.Internal, &a.Related,
		&a.ValidFrom, &a.ValidTo, &a.ProducedOn, &a.Keywords, &a.Categories, &a.Handling, &a.Supplementary, &a.TimeLimit,
		&a.Place, &a.Fees.StampDuty, &a.Fees.Other, &a.Fees.StampDutyAccount, &a.Fees.OtherAccount, &docs,
		&a.ConsultantInfo, &a.LegalBasis, &a.Appeal, &a.ReuseConditions, &a.Owner, &a.Authors, &a.Coordinator,
		&a.Handlers, &a.Unit, &a.Department, &a.DomainSystem, &a.EDoc, &a.UseCount, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(docs, &a.Documents); err != nil {
		return a, err
	}
	a.Expired = expired(a.ValidFrom, a.ValidTo, s.today())
	a.RelatedArticles = []ArticleRef{}
	if len(a.Related) > 0 {
		rows, err := db.Query(ctx, `SELECT id, title FROM articles WHERE id = ANY($1) AND NOT internal ORDER BY title`, a.Related)
		if err != nil {
			return a, err
		}
		a.RelatedArticles, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ArticleRef])
		if err != nil {
			return a, err
		}
	}
	return a, nil
}

// Article returns an article for staff, expired or internal ones included.
func (s *Service) Article(ctx context.Context, id int64) (Article, error) {
	return s.getArticle(ctx, s.db, id)
}

// PublicArticle returns an article for residents: never an internal or expired one.
func (s *Service) PublicArticle(ctx context.Context, id int64) (PublicArticle, error) {
	a, err := s.getArticle(ctx, s.db, id)
	if err != nil {
		return PublicArticle{}, err
	}
	if a.Internal || a.Expired {
		return PublicArticle{}, ErrNotFound
	}
	return a.Public(), nil
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// checkArticle normalises and validates what an editor wrote, all problems at once; it resolves
// category and unit codes.
func (s *Service) checkArticle(ctx context.Context, db DB, id int64, a *ArticleFields) (cats []int64, unit any, err error) {
	var f fields
	a.Title = strings.TrimSpace(a.Title)
	if n := len([]rune(a.Title)); n < 3 || n > 300 {
		f.add("title", "invalid", "the procedure's name is 3–300 characters")
	}
	if a.ValidFrom == "" {
		a.ValidFrom = s.today()
	}
	if !validDate(a.ValidFrom) {
		f.add("valid_from", "invalid", "a date like 2026-01-31")
	}
	if a.ValidTo != "" && !validDate(a.ValidTo) {
		f.add("valid_to", "invalid", "a date like 2026-12-31, or empty")
	} else if a.ValidTo != "" && a.ValidTo < a.ValidFrom {
		f.add("valid_to", "before_valid_from", "valid_to (%s) is before valid_from (%s)", a.ValidTo, a.ValidFrom)
	}
	if a.ProducedOn != "" && !validDate(a.ProducedOn) {
		f.add("produced_on", "invalid", "a date like 2026-01-31, or empty")
	}
	clean := func(field string, list []string, max int) []string {
		out := []string{}
		for _, v := range list {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		if len(out) > max {
			f.add(field, "too_many", "at most %d", max)
		}
		return out
	}
	a.Keywords = clean("keywords", a.Keywords, 100)
	a.Authors = clean("authors", a.Authors, 50)
	a.Handlers = clean("handlers", a.Handlers, 50)
	long := []struct {
		field string
		v     string
		max   int
	}{
		{"handling", a.Handling, 100000}, {"supplementary", a.Supplementary, 100000}, {"time_limit", a.TimeLimit, 2000},
		{"place", a.Place, 4000}, {"fees.stamp_duty", a.Fees.StampDuty, 2000}, {"fees.other", a.Fees.Other, 4000},
		{"fees.stamp_duty_account", a.Fees.StampDutyAccount, 200}, {"fees.other_account", a.Fees.OtherAccount, 200},
		{"consultant_info", a.ConsultantInfo, 100000}, {"legal_basis", a.LegalBasis, 20000}, {"appeal", a.Appeal, 20000},
		{"reuse_conditions", a.ReuseConditions, 20000}, {"owner", a.Owner, 200}, {"coordinator", a.Coordinator, 200},
		{"department", a.Department, 300}, {"domain_system", a.DomainSystem, 300},
	}
	for _, l := range long {
		if len([]rune(l.v)) > l.max {
			f.add(l.field, "too_long", "at most %d characters", l.max)
		}
	}
	if strings.Contains(a.Owner, ";") || strings.Contains(a.Coordinator, ";") {
		f.add("owner", "one_person", "the owner and the coordinator are one person each")
	}
	if a.Documents == nil {
		a.Documents = []Document{}
	}
	for i, d := range a.Documents {
		if strings.TrimSpace(d.Name) == "" {
			f.add(fmt.Sprintf("documents[%d].name", i), "required", "a document has a name")
		}
		if d.Kind != "view" && d.Kind != "submit" {
			f.add(fmt.Sprintf("documents[%d].kind", i), "invalid", "view (to show) or submit (to hand in)")
		}
	}
	if len(a.Related) > 100 {
		f.add("related", "too_many", "at most 100 related procedures")
	}
	if a.Related == nil {
		a.Related = []int64{}
	}
	for _, r := range a.Related {
		if r == id && id != 0 {
			f.add("related", "self", "an article is not related to itself")
		}
	}
	if len(a.Related) > 0 {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM articles WHERE id = ANY($1)`, a.Related).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n != len(uniqueInts(a.Related)) {
			f.add("related", "unknown", "some related articles do not exist")
		}
	}
	a.Categories = clean("categories", a.Categories, 50)
	for _, code := range a.Categories {
		var cid int64
		err := db.QueryRow(ctx, `SELECT id FROM categories WHERE code = $1`, code).Scan(&cid)
		if errors.Is(err, pgx.ErrNoRows) {
			f.add("categories", "unknown", "no category %q", code)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		cats = append(cats, cid)
	}
	if a.Unit != "" {
		uid, err := s.unitID(ctx, a.Unit)
		if err != nil {
			f.add("unit", "unknown", "no unit %q", a.Unit)
		}
		unit = int64(uid)
	}
	return cats, unit, f.err()
}

func uniqueInts(v []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, x := range v {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// searchDocs are the texts indexed for an article: title (weight A), keywords (B), handling and
// supplementary information (C), time limit, place, fees and documents (D). The information for
// the consultant is not indexed, so a public search can never match on it.
func searchDocs(a ArticleFields) (title, keywords, body, rest, trgm string) {
	var docs []string
	for _, d := range a.Documents {
		docs = append(docs, d.Name)
	}
	kw := strings.Join(a.Keywords, " ")
	return textpl.Document(a.Title), textpl.Document(kw), textpl.Document(a.Handling + "\n" + a.Supplementary),
		textpl.Document(strings.Join(append([]string{a.TimeLimit, a.Place, a.Fees.StampDuty, a.Fees.Other}, docs...), "\n")),
		textpl.Keywords(a.Title + " " + kw)
}

// writeArticle inserts (id 0) or updates an article's row and its categories.
func writeArticle(ctx context.Context, tx pgx.Tx, id int64, version int, a ArticleFields, cats []int64, unit any, by ticket.UserID, now time.Time) (int64, error) {
	t, k, b, r, trgm := searchDocs(a)
	docs, _ := json.Marshal(a.Documents)
	args := []any{version, a.Title, a.Internal, a.Related, a.ValidFrom, nullString(a.ValidTo), nullString(a.ProducedOn),
		a.Keywords, a.Handling, a.Supplementary, a.TimeLimit, a.Place, a.Fees.StampDuty, a.Fees.Other,
		a.Fees.StampDutyAccount, a.Fees.OtherAccount, docs, a.ConsultantInfo, a.LegalBasis, a.Appeal, a.ReuseConditions,
		a.Owner, a.Authors, a.Coordinator, a.Handlers, unit, a.Department, a.DomainSystem, a.EDoc, t, k, b, r, trgm,
		nullID(by), now}
	const head = `setweight(to_tsvector('simple', $30), 'A') || setweight(to_tsvector('simple', $31), 'B')`
	const search = head + ` || setweight(to_tsvector('simple', $32), 'C') || setweight(to_tsvector('simple', $33), 'D')`
	var err error
	if id == 0 {
		err = tx.QueryRow(ctx, `INSERT INTO articles (version, title, internal, related_ids, valid_from, valid_to, produced_on,
			keywords, handling, supplementary, time_limit, place, fee_stamp, fee_other, fee_stamp_account, fee_other_account,
			documents, consultant_info, legal_basis, appeal, reuse_conditions, owner_name, authors, coordinator, handlers,
			unit_id, department, domain_system, edoc, search, search_head, title_keywords, updated_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5::text::date, $6::text::date, $7::text::date, $8, $9, $10, $11, $12, $13, $14, $15, $16,
			$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, `+search+`, `+head+`, $34, $35, $36, $36)
			RETURNING id`, args...).Scan(&id)
	} else {
		args = append(args, id)
		_, err = tx.Exec(ctx, `UPDATE articles SET version = $1, title = $2, internal = $3, related_ids = $4,
			valid_from = $5::text::date, valid_to = $6::text::date, produced_on = $7::text::date, keywords = $8, handling = $9,
			supplementary = $10, time_limit = $11, place = $12, fee_stamp = $13, fee_other = $14, fee_stamp_account = $15,
			fee_other_account = $16, documents = $17, consultant_info = $18, legal_basis = $19, appeal = $20,
			reuse_conditions = $21, owner_name = $22, authors = $23, coordinator = $24, handlers = $25, unit_id = $26,
			department = $27, domain_system = $28, edoc = $29, search = `+search+`, search_head = `+head+`, title_keywords = $34,
			updated_by = $35, updated_at = $36 WHERE id = $37`, args...)
	}
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM article_categories WHERE article_id = $1`, id); err != nil {
		return 0, err
	}
	if len(cats) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO article_categories (category_id, article_id)
			SELECT DISTINCT unnest($1::bigint[]), $2::bigint`, cats, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// saveVersion keeps the article as saved in article_versions.
func (s *Service) saveVersion(ctx context.Context, tx pgx.Tx, id int64, by ticket.UserID, now time.Time) (Article, error) {
	a, err := s.getArticle(ctx, tx, id)
	if err != nil {
		return a, err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO article_versions (article_id, version, data, saved_at, saved_by) VALUES ($1, $2, $3, $4, $5)`,
		id, a.Version, data, now, nullID(by))
	return a, err
}

// CreateArticle adds an article (administrators: the knowledge-base editors), version 1.
func (s *Service) CreateArticle(ctx context.Context, actor ticket.Actor, a ArticleFields) (Article, error) {
	if actor.Role != ticket.RoleAdministrator {
		return Article{}, ErrForbidden
	}
	var out Article
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cats, unit, err := s.checkArticle(ctx, tx, 0, &a)
		if err != nil {
			return err
		}
		now := s.now()
		id, err := writeArticle(ctx, tx, 0, 1, a, cats, unit, actor.User, now)
		if err != nil {
			return err
		}
		out, err = s.saveVersion(ctx, tx, id, actor.User, now)
		return err
	})
	return out, err
}

// UpdateArticle saves a new version of an article; version is the one the editor started from
// (ErrConflict when someone saved another meanwhile).
func (s *Service) UpdateArticle(ctx context.Context, actor ticket.Actor, id int64, version int, a ArticleFields) (Article, error) {
	if actor.Role != ticket.RoleAdministrator {
		return Article{}, ErrForbidden
	}
	var out Article
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var current int
		err := tx.QueryRow(ctx, `SELECT version FROM articles WHERE id = $1 FOR UPDATE`, id).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != current {
			return fmt.Errorf("%w: article %d is at version %d, the edit started from version %d", ErrConflict, id, current, version)
		}
		cats, unit, err := s.checkArticle(ctx, tx, id, &a)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := writeArticle(ctx, tx, id, current+1, a, cats, unit, actor.User, now); err != nil {
			return err
		}
		out, err = s.saveVersion(ctx, tx, id, actor.User, now)
		return err
	})
	return out, err
}

// WithdrawArticle ends an article's validity yesterday (administrators), as a new version: it
// disappears from searches and suggestions, stays readable by id, in its versions, and on the
// tickets it was used on. An article is never deleted.
func (s *Service) WithdrawArticle(ctx context.Context, actor ticket.Actor, id int64) (Article, error) {
	if actor.Role != ticket.RoleAdministrator {
		return Article{}, ErrForbidden
	}
	var out Article
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		yesterday := now.AddDate(0, 0, -1).Format(time.DateOnly)
		tag, err := tx.Exec(ctx, `UPDATE articles SET valid_to = greatest(valid_from, $2::text::date), version = version + 1,
			updated_at = $3, updated_by = $4
			WHERE id = $1 AND (valid_to IS NULL OR valid_to > greatest(valid_from, $2::text::date))`, id, yesterday, now, nullID(actor.User))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			out, err = s.getArticle(ctx, tx, id) // withdrawn already, or no such article
			return err
		}
		out, err = s.saveVersion(ctx, tx, id, actor.User, now)
		return err
	})
	return out, err
}

// ArticleVersionInfo lists a saved version.
type ArticleVersionInfo struct {
	Version int           `json:"version"`
	Title   string        `json:"title"`
	SavedAt time.Time     `json:"saved_at"`
	SavedBy ticket.UserID `json:"saved_by,omitempty"`
}

// ArticleVersions lists an article's versions, newest first.
func (s *Service) ArticleVersions(ctx context.Context, id int64) ([]ArticleVersionInfo, error) {
	rows, err := s.db.Query(ctx, `SELECT version, data->>'title', saved_at, coalesce(saved_by, 0) FROM article_versions
		WHERE article_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ArticleVersionInfo])
	if err == nil && len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, err
}

// ArticleVersion returns an article as it was saved at version.
func (s *Service) ArticleVersion(ctx context.Context, id int64, version int) (Article, error) {
	var a Article
	var data []byte
	err := s.db.QueryRow(ctx, `SELECT data FROM article_versions WHERE article_id = $1 AND version = $2`, id, version).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	err = json.Unmarshal(data, &a)
	a.Expired = expired(a.ValidFrom, a.ValidTo, s.today())
	return a, err
}

// ArticleQuery is a knowledge-base search.
type ArticleQuery struct {
	// Q is what the consultant or resident typed; empty lists the most used articles.
	Q string
	// Category restricts to the articles of a category (code).
	Category string
	// IncludeExpired shows articles not valid today (staff only; consultants see valid ones by
	// default).
	IncludeExpired bool
	// Public: a resident's search, without internal articles (and never expired ones).
	Public bool
	// Limit is 1–50; zero means 10.
	Limit int
}

// SearchArticles finds articles for a query in Polish: diacritics do not matter, inflected forms
// meet at their stems (internal/textpl), a typo in a word of the title or keywords is forgiven
// (pg_trgm word similarity), and results are ranked: all the words found, then how well (title
// over keywords over text), then how close the typed words are to the title and keywords.
func (s *Service) SearchArticles(ctx context.Context, q ArticleQuery) ([]ArticleSummary, error) {
	if q.Limit == 0 {
		q.Limit = 10
	}
	if q.Limit < 1 || q.Limit > 50 {
		return nil, &ValidationError{Fields: []FieldError{{Field: "limit", Code: "out_of_range", Message: "1–50 results"}}}
	}
	if len(q.Q) > 500 {
		return nil, &ValidationError{Fields: []FieldError{{Field: "q", Code: "too_long", Message: "at most 500 characters"}}}
	}
	sql, args := s.searchSQL(q)
	today := s.today()
	// One round trip: the planner setting for this transaction (the batch's implicit one, or
	// the caller's), then the search.
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('enable_seqscan', 'off', true)`)
	b.Queue(sql, args...)
	br := s.db.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArticleSummary, error) {
		var score float64
		a, err := scanSummary(r, today, &score)
		a.Score = score
		return a, err
	})
	if out == nil {
		out = []ArticleSummary{}
	}
	return out, err
}

// SuggestArticles returns the articles of a category valid today, most used first: what the
// screen-pop and the ticket form offer once the category is known.
func (s *Service) SuggestArticles(ctx context.Context, category string, limit int) ([]ArticleSummary, error) {
	if limit <= 0 || limit > 50 {
		limit = 5
	}
	rows, err := s.db.Query(ctx, `SELECT `+summaryColumns+` FROM articles a
		JOIN article_categories ac ON ac.article_id = a.id JOIN categories c ON c.id = ac.category_id
		WHERE c.code = $1 AND a.valid_from <= $2::text::date AND (a.valid_to IS NULL OR a.valid_to >= $2::text::date)
		ORDER BY a.use_count DESC, a.title LIMIT $3`, category, s.today(), limit)
	if err != nil {
		return nil, err
	}
	return collectSummaries(rows, s.today())
}

// searchSQL builds the search query of q.
func (s *Service) searchSQL(q ArticleQuery) (string, []any) {
	today := s.today()
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	var where []string
	if q.Public {
		where = append(where, "NOT a.internal")
	}
	if q.Public || !q.IncludeExpired {
		d := arg(today)
		where = append(where, "a.valid_from <= "+d+"::text::date AND (a.valid_to IS NULL OR a.valid_to >= "+d+"::text::date)")
	}
	if q.Category != "" {
		where = append(where, "a.id IN (SELECT ac.article_id FROM article_categories ac JOIN categories c ON c.id = ac.category_id WHERE c.code = "+arg(q.Category)+")")
	}
	all, anyTerm, kw := textpl.Query(q.Q), textpl.QueryAny(q.Q), textpl.Keywords(q.Q)
	filter := ""
	if len(where) > 0 {
		filter = " AND " + strings.Join(where, " AND ")
	}
	var sql string
	if anyTerm == "" && kw == "" {
		sql = `SELECT ` + summaryColumns + `, 0::float8 FROM articles a WHERE true` + filter +
			` ORDER BY a.use_count DESC, a.title LIMIT ` + arg(q.Limit)
	} else {
		qa, qo, k := arg(all), arg(anyTerm), arg(kw)
		// Candidates, each way bounded so that a common word costs no more than a rare one, and
		// each read from an index (SearchArticles turns sequential scans off: the planner does
		// not see that testing a long tsvector row by row means reading it from TOAST):
		// articles with any of the words in the title or keywords; the most used of those with
		// all the words anywhere (flagged); some with any word anywhere (the fallback when the
		// words are only in the texts, and not all in one); those whose title or keywords are
		// close to the typed words (typos).
		var cand []string
		if anyTerm != "" {
			cand = append(cand,
				`(SELECT a.id, false AS all_words FROM articles a WHERE a.search_head @@ to_tsquery('simple', `+qo+`)`+filter+` LIMIT 500)`,
				`(SELECT x.id, true FROM (SELECT a.id, a.use_count FROM articles a WHERE `+qa+` <> '' AND a.search @@ to_tsquery('simple', `+qa+`)`+filter+` OFFSET 0) x
					ORDER BY x.use_count DESC LIMIT 100)`,
				`(SELECT a.id, false FROM articles a WHERE a.search @@ to_tsquery('simple', `+qo+`)`+filter+` LIMIT 50)`)
		}
		if kw != "" {
			cand = append(cand, `(SELECT a.id, false FROM articles a WHERE a.title_keywords %> `+k+filter+` LIMIT 100)`)
		}
		// All words found (in the title and keywords, or anywhere for the flagged): +1, and +0.5
		// more in the title and keywords; else the typo net, the word similarity of the typed
		// words to the title and keywords (only then: it prefers the surface form typed, which
		// inflection changes, and stems have met already); ts_rank of the title (1.0) and
		// keywords (0.4); how often consultants used the article, for ties.
		head := `(` + qa + ` <> '' AND a.search_head @@ to_tsquery('simple', ` + qa + `))`
		score := `(CASE WHEN c.all_words OR ` + head + ` THEN 1 ELSE 0.5 * word_similarity(` + k + `, a.title_keywords) END
			+ CASE WHEN ` + head + ` THEN 0.5 ELSE 0 END
			+ CASE WHEN ` + qo + ` <> '' THEN ts_rank('{0.1, 0.2, 0.4, 1.0}', a.search_head, to_tsquery('simple', ` + qo + `)) ELSE 0 END
			+ 0.1 * least(ln(1 + a.use_count) / 7, 1))::float8`
		sql = `SELECT ` + summaryColumns + `, ` + score + ` AS score
			FROM (SELECT id, bool_or(all_words) AS all_words FROM (` + strings.Join(cand, " UNION ALL ") + `) u GROUP BY id) c
			CROSS JOIN LATERAL (SELECT * FROM articles a WHERE a.id = c.id OFFSET 0) a
			ORDER BY score DESC, a.use_count DESC, a.id LIMIT ` + arg(q.Limit)
	}
	return sql, args
}
