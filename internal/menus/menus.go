// Package menus keeps the IVR's menu versions in Postgres: drafts, an atomic publish (one
// published version per menu), rollback to an earlier version, an audit of every change, the
// prompts rendered at publish time, and the published versions cached for the call path.
package menus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/store"
	"kontakt/ivr"
)

// Published is a menu version ready for calls: the decoded menu and its rendered prompts.
type Published struct {
	Menu    *ivr.Menu
	Version int
	Files   map[ivr.PromptKey]string
}

// Renderer renders a menu's prompts (ivr/prompt's Renderer).
type Renderer interface {
	RenderMenu(ctx context.Context, m *ivr.Menu) (map[ivr.PromptKey]string, error)
}

// Service manages menu versions.
type Service struct {
	db      store.DB
	render  Renderer
	catalog func() *ivr.Catalog
	log     *slog.Logger
	mu      sync.RWMutex
	current map[string]*Published
	// seq is, per menu, the audit entry of the publish or rollback cached in current: publishes
	// commit in the order of their audit entries, so a later one is never replaced by an earlier.
	seq map[string]int64
	now func() time.Time
}

// Options configure a Service.
type Options struct {
	Renderer Renderer
	// Catalog returns the queues and skills menus may route to (nil: the default 19115 catalog).
	Catalog func() *ivr.Catalog
	Log     *slog.Logger
}

// New returns a service over db.
func New(db store.DB, o Options) *Service {
	if o.Catalog == nil {
		o.Catalog = ivr.DefaultCatalog
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, render: o.Renderer, catalog: o.Catalog, log: o.Log.With("component", "menus"),
		current: map[string]*Published{}, seq: map[string]int64{}, now: time.Now}
}

// Version is a stored menu version.
type Version struct {
	MenuID      string          `json:"menu_id"`
	Version     int             `json:"version"`
	Status      string          `json:"status"`
	CreatedBy   string          `json:"created_by"`
	CreatedAt   time.Time       `json:"created_at"`
	PublishedBy string          `json:"published_by,omitempty"`
	PublishedAt *time.Time      `json:"published_at,omitempty"`
	Document    json.RawMessage `json:"document,omitempty"`
}

// ErrNotFound is returned for a menu or version that does not exist.
var ErrNotFound = errors.New("menus: not found")

// InvalidError is a document that does not validate: every problem, located.
type InvalidError struct{ Problems ivr.Problems }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("menu does not validate: %d problem(s), first: %s", len(e.Problems), e.Problems[0].Message)
}

// Validate decodes and validates a document against the catalog.
func (s *Service) Validate(doc []byte) (*ivr.Menu, ivr.Problems) {
	return ivr.Load(doc, s.catalog())
}

// SaveDraft stores a document as the next version of its menu, as a draft. The document's own
// "version" is replaced by the stored number. A draft may have problems (it is work in
// progress) but must decode; Publish refuses it until it validates.
func (s *Service) SaveDraft(ctx context.Context, doc []byte, actor string) (Version, ivr.Problems, error) {
	m, probs := ivr.Decode(doc)
	if m == nil {
		return Version{}, probs, &InvalidError{Problems: probs}
	}
	var v Version
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('menu:' || $1))`, m.ID); err != nil {
			return err
		}
		var next int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM menu_versions WHERE menu_id = $1`, m.ID).Scan(&next); err != nil {
			return err
		}
		stored, err := withVersion(doc, next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO menu_versions (menu_id, version, document, created_by) VALUES ($1, $2, $3, $4)`,
			m.ID, next, stored, actor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO menu_audit (menu_id, version, action, actor) VALUES ($1, $2, 'save_draft', $3)`,
			m.ID, next, actor); err != nil {
			return err
		}
		v, err = getVersion(ctx, tx, m.ID, next, false)
		return err
	})
	return v, m.Validate(s.catalog()), err
}

// withVersion sets the document's "version" field.
func withVersion(doc []byte, version int) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil {
		return nil, err
	}
	obj["version"] = json.RawMessage(fmt.Sprint(version))
	return json.Marshal(obj)
}

// Publish makes a version the published one, atomically: the document is validated, its prompts
// rendered (before anything changes, never on the call path), the previously published version
// archived, and the change audited. Calls in progress keep the version they started with.
func (s *Service) Publish(ctx context.Context, menuID string, version int, actor string) (Version, error) {
	return s.publish(ctx, menuID, version, actor, "publish")
}

// Rollback republishes an earlier version.
func (s *Service) Rollback(ctx context.Context, menuID string, version int, actor string) (Version, error) {
	return s.publish(ctx, menuID, version, actor, "rollback")
}

func (s *Service) publish(ctx context.Context, menuID string, version int, actor, action string) (Version, error) {
	v, err := getVersion(ctx, s.db, menuID, version, true)
	if err != nil {
		return Version{}, err
	}
	if action == "rollback" && v.Status == "draft" {
		return Version{}, fmt.Errorf("menus: version %d of %s was never published; publish it instead of rolling back to it", version, menuID)
	}
	m, probs := s.Validate(v.Document)
	if len(probs) > 0 {
		return Version{}, &InvalidError{Problems: probs}
	}
	files := map[ivr.PromptKey]string{}
	if s.render != nil {
		if files, err = s.render.RenderMenu(ctx, m); err != nil {
			return Version{}, fmt.Errorf("menus: rendering the prompts of %s v%d: %w", menuID, version, err)
		}
	}
	var seq int64
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('menu:' || $1))`, menuID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE menu_versions SET status = 'archived' WHERE menu_id = $1 AND status = 'published' AND version <> $2`,
			menuID, version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE menu_versions SET status = 'published', published_by = $3, published_at = $4
			WHERE menu_id = $1 AND version = $2`, menuID, version, actor, s.now()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO menu_audit (menu_id, version, action, actor) VALUES ($1, $2, $3, $4) RETURNING id`,
			menuID, version, action, actor).Scan(&seq)
	})
	if err != nil {
		return Version{}, fmt.Errorf("menus: publish %s v%d: %w", menuID, version, err)
	}
	s.setCurrent(menuID, &Published{Menu: m, Version: version, Files: files}, seq)
	s.log.Info("menu published", "menu", menuID, "version", version, "by", actor, "action", action)
	return getVersion(ctx, s.db, menuID, version, false)
}

// setCurrent caches a menu's published version unless a later publish is cached already.
func (s *Service) setCurrent(menuID string, p *Published, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq < s.seq[menuID] {
		return
	}
	s.seq[menuID] = seq
	s.current[menuID] = p
}

// Current returns the published version of a menu for a new call (cached; Refresh reloads).
func (s *Service) Current(menuID string) (*Published, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.current[menuID]
	return p, ok
}

// Refresh loads the published versions another process may have published.
func (s *Service) Refresh(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT v.menu_id, v.version, coalesce((SELECT max(a.id) FROM menu_audit a
			WHERE a.menu_id = v.menu_id AND a.version = v.version AND a.action IN ('publish', 'rollback')), 0)
		FROM menu_versions v WHERE v.status = 'published'`)
	if err != nil {
		return err
	}
	type mv struct {
		id  string
		v   int
		seq int64
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mv, error) {
		var x mv
		return x, r.Scan(&x.id, &x.v, &x.seq)
	})
	if err != nil {
		return err
	}
	for _, x := range list {
		s.mu.RLock()
		p, ok := s.current[x.id]
		newer := x.seq < s.seq[x.id]
		s.mu.RUnlock()
		if (ok && p.Version == x.v) || newer {
			continue
		}
		v, err := getVersion(ctx, s.db, x.id, x.v, true)
		if err != nil {
			return err
		}
		m, probs := s.Validate(v.Document)
		if len(probs) > 0 {
			s.log.Error("published menu no longer validates; keeping the previous one", "menu", x.id, "version", x.v, "problems", len(probs))
			continue
		}
		files := map[ivr.PromptKey]string{}
		if s.render != nil {
			if files, err = s.render.RenderMenu(ctx, m); err != nil {
				return err
			}
		}
		s.setCurrent(x.id, &Published{Menu: m, Version: x.v, Files: files}, x.seq)
	}
	return nil
}

// EnsureDefault stores and publishes the default 19115 menu when that menu has no version yet.
func (s *Service) EnsureDefault(ctx context.Context) error {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM menu_versions WHERE menu_id = '19115'`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return s.Refresh(ctx)
	}
	v, _, err := s.SaveDraft(ctx, ivr.DefaultMenuJSON(), "system")
	if err != nil {
		return err
	}
	_, err = s.Publish(ctx, v.MenuID, v.Version, "system")
	return err
}

// Versions lists a menu's versions, newest first (without documents).
func (s *Service) Versions(ctx context.Context, menuID string) ([]Version, error) {
	rows, err := s.db.Query(ctx, `SELECT menu_id, version, status, created_by, created_at, coalesce(published_by, ''), published_at
		FROM menu_versions WHERE menu_id = $1 ORDER BY version DESC`, menuID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
		var v Version
		err := r.Scan(&v.MenuID, &v.Version, &v.Status, &v.CreatedBy, &v.CreatedAt, &v.PublishedBy, &v.PublishedAt)
		return v, err
	})
}

// Get returns one version with its document.
func (s *Service) Get(ctx context.Context, menuID string, version int) (Version, error) {
	return getVersion(ctx, s.db, menuID, version, true)
}

// Audit is one audited change.
type Audit struct {
	MenuID  string    `json:"menu_id"`
	Version int       `json:"version"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
}

// AuditLog returns a menu's audited changes, oldest first.
func (s *Service) AuditLog(ctx context.Context, menuID string) ([]Audit, error) {
	rows, err := s.db.Query(ctx, `SELECT menu_id, version, action, actor, at FROM menu_audit WHERE menu_id = $1 ORDER BY id`, menuID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Audit, error) {
		var a Audit
		err := r.Scan(&a.MenuID, &a.Version, &a.Action, &a.Actor, &a.At)
		return a, err
	})
}

func getVersion(ctx context.Context, db store.DB, menuID string, version int, withDoc bool) (Version, error) {
	var v Version
	var doc []byte
	err := db.QueryRow(ctx, `SELECT menu_id, version, status, created_by, created_at, coalesce(published_by, ''), published_at, document
		FROM menu_versions WHERE menu_id = $1 AND version = $2`, menuID, version).
		Scan(&v.MenuID, &v.Version, &v.Status, &v.CreatedBy, &v.CreatedAt, &v.PublishedBy, &v.PublishedAt, &doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("%w: menu %s version %d", ErrNotFound, menuID, version)
	}
	if withDoc {
		v.Document = doc
	}
	return v, err
}
