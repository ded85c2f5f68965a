package crm

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"kontakt/internal/ticket"
)

// Unit is a unit tickets are forwarded to (second line): a city unit or a city hall department.
type Unit struct {
	ID        ticket.UnitID `json:"id"`
	Code      string        `json:"code"`
	Name      string        `json:"name"`
	ShortName string        `json:"short_name"`
	Type      string        `json:"type"`
	Email     string        `json:"email"`
	Phone     string        `json:"phone"`
	Active    bool          `json:"active"`
}

// Category is what a ticket is about, with its default unit, kind and due time.
type Category struct {
	ID          ticket.CategoryID `json:"id"`
	Code        string            `json:"code"`
	Name        string            `json:"name"`
	NameEN      string            `json:"name_en"`
	Description string            `json:"description"`
	Kind        ticket.Kind       `json:"kind"`
	UnitID      ticket.UnitID     `json:"-"`
	Unit        string            `json:"unit,omitempty"`
	Due         ticket.DueRule    `json:"due"`
	Group       string            `json:"group"`
	Keywords    []string          `json:"keywords"`
	Attributes  []Attribute       `json:"attributes"`
	Active      bool              `json:"active"`
}

// Attribute is a question a category asks when filed through Open311 (a service definition's
// attribute): datatype string, number, datetime, text, singlevaluelist or multivaluelist.
type Attribute struct {
	Code        string           `json:"code"`
	Datatype    string           `json:"datatype"`
	Required    bool             `json:"required"`
	Order       int              `json:"order"`
	Description string           `json:"description"`
	Values      []AttributeValue `json:"values,omitempty"`
}

// AttributeValue is one choice of a list attribute.
type AttributeValue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// Units lists the units, active first, by name.
func (s *Service) Units(ctx context.Context) ([]Unit, error) {
	rows, err := s.db.Query(ctx, `SELECT id, code, name, short_name, type, email, phone, active
		FROM units ORDER BY NOT active, name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unit, error) {
		var u Unit
		err := r.Scan(&u.ID, &u.Code, &u.Name, &u.ShortName, &u.Type, &u.Email, &u.Phone, &u.Active)
		return u, err
	})
}

// Unit returns a unit by code.
func (s *Service) Unit(ctx context.Context, code string) (Unit, error) {
	var u Unit
	err := s.db.QueryRow(ctx, `SELECT id, code, name, short_name, type, email, phone, active
		FROM units WHERE code = $1`, code).Scan(&u.ID, &u.Code, &u.Name, &u.ShortName, &u.Type, &u.Email, &u.Phone, &u.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

func validateUnit(u Unit) error {
	var f fields
	if !codeRE.MatchString(u.Code) {
		f.add("code", "invalid", "a code is 2–40 lower-case letters, digits and underscores, starting with a letter")
	}
	if n := len([]rune(strings.TrimSpace(u.Name))); n < 2 || n > 200 {
		f.add("name", "invalid", "a name is 2–200 characters")
	}
	if len([]rune(u.ShortName)) > 40 {
		f.add("short_name", "too_long", "at most 40 characters")
	}
	if u.Type != "city_unit" && u.Type != "city_hall" {
		f.add("type", "invalid", "city_unit or city_hall")
	}
	if u.Email != "" && !emailRE.MatchString(u.Email) {
		f.add("email", "invalid", "not an e-mail address")
	}
	if !unitPhoneRE.MatchString(u.Phone) {
		f.add("phone", "invalid", "digits, spaces, +, - and parentheses, at most 32")
	}
	return f.err()
}

var unitPhoneRE = regexp.MustCompile(`^[0-9 +()-]{0,32}$`)

// SaveUnit creates a unit, or updates the one with the same code (administrators).
func (s *Service) SaveUnit(ctx context.Context, actor ticket.Actor, u Unit) (Unit, error) {
	if actor.Role != ticket.RoleAdministrator {
		return Unit{}, ErrForbidden
	}
	if u.Type == "" {
		u.Type = "city_unit"
	}
	if err := validateUnit(u); err != nil {
		return Unit{}, err
	}
	err := s.db.QueryRow(ctx, `INSERT INTO units (code, name, short_name, type, email, phone, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (code) DO UPDATE SET name = $2, short_name = $3, type = $4, email = $5, phone = $6, active = $7
		RETURNING id`, u.Code, strings.TrimSpace(u.Name), u.ShortName, u.Type, u.Email, u.Phone, u.Active).Scan(&u.ID)
	return u, err
}

const categoryColumns = `c.id, c.code, c.name, c.name_en, c.description, c.kind, coalesce(c.unit_id, 0),
	coalesce(u.code, ''), c.due, c.group_name, c.keywords, c.open311_attributes, c.active`

func scanCategory(r pgx.Row) (Category, error) {
	var c Category
	var kind, due string
	var attrs []byte
	err := r.Scan(&c.ID, &c.Code, &c.Name, &c.NameEN, &c.Description, &kind, &c.UnitID, &c.Unit, &due,
		&c.Group, &c.Keywords, &attrs, &c.Active)
	if err != nil {
		return c, err
	}
	c.Kind, _ = ticket.ParseKind(kind)
	c.Due, _ = ticket.ParseDueRule(due)
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return c, err
	}
	if c.Attributes == nil {
		c.Attributes = []Attribute{}
	}
	return c, nil
}

// Categories lists the categories by group and name; only the active ones unless all.
func (s *Service) Categories(ctx context.Context, all bool) ([]Category, error) {
	rows, err := s.db.Query(ctx, `SELECT `+categoryColumns+` FROM categories c LEFT JOIN units u ON u.id = c.unit_id
		WHERE c.active OR $1 ORDER BY c.group_name, c.name`, all)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Category, error) { return scanCategory(r) })
}

// Category returns a category by code.
func (s *Service) Category(ctx context.Context, code string) (Category, error) {
	return s.categoryWhere(ctx, s.db, `c.code = $1`, code)
}

func (s *Service) categoryByID(ctx context.Context, db DB, id ticket.CategoryID) (Category, error) {
	return s.categoryWhere(ctx, db, `c.id = $1`, int64(id))
}

func (s *Service) categoryWhere(ctx context.Context, db DB, where string, arg any) (Category, error) {
	c, err := scanCategory(db.QueryRow(ctx, `SELECT `+categoryColumns+` FROM categories c
		LEFT JOIN units u ON u.id = c.unit_id WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

var datatypes = map[string]bool{"string": true, "number": true, "datetime": true, "text": true, "singlevaluelist": true, "multivaluelist": true}

// SaveCategory creates a category, or updates the one with the same code (administrators).
func (s *Service) SaveCategory(ctx context.Context, actor ticket.Actor, c Category) (Category, error) {
	if actor.Role != ticket.RoleAdministrator {
		return Category{}, ErrForbidden
	}
	var f fields
	if !codeRE.MatchString(c.Code) {
		f.add("code", "invalid", "a code is 2–40 lower-case letters, digits and underscores, starting with a letter")
	}
	if n := len([]rune(strings.TrimSpace(c.Name))); n < 2 || n > 200 {
		f.add("name", "invalid", "a name is 2–200 characters")
	}
	if c.Kind == ticket.KindUnknown {
		f.add("kind", "required", "information, intervention or out_of_scope")
	}
	c.UnitID = 0
	if c.Unit != "" {
		id, err := s.unitID(ctx, c.Unit)
		if err != nil {
			f.add("unit", "unknown", "no unit %q", c.Unit)
		}
		c.UnitID = id
	} else if c.Kind == ticket.KindIntervention {
		f.add("unit", "required", "an intervention category names the unit that acts on it")
	}
	for i, a := range c.Attributes {
		if a.Code == "" || !datatypes[a.Datatype] {
			f.add("attributes", "invalid", "attribute %d: a code and a datatype (string, number, datetime, text, singlevaluelist, multivaluelist) are required", i+1)
		}
		if strings.HasSuffix(a.Datatype, "valuelist") && len(a.Values) == 0 {
			f.add("attributes", "invalid", "attribute %q: a list needs values", a.Code)
		}
	}
	if err := f.err(); err != nil {
		return Category{}, err
	}
	if c.Keywords == nil {
		c.Keywords = []string{}
	}
	if c.Attributes == nil {
		c.Attributes = []Attribute{}
	}
	attrs, _ := json.Marshal(c.Attributes)
	var unit any
	if c.UnitID != 0 {
		unit = int64(c.UnitID)
	}
	err := s.db.QueryRow(ctx, `INSERT INTO categories (code, name, name_en, description, kind, unit_id, due, group_name, keywords, open311_attributes, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (code) DO UPDATE SET name = $2, name_en = $3, description = $4, kind = $5, unit_id = $6, due = $7,
			group_name = $8, keywords = $9, open311_attributes = $10, active = $11
		RETURNING id`, c.Code, strings.TrimSpace(c.Name), c.NameEN, c.Description, c.Kind.String(), unit, c.Due.String(),
		c.Group, c.Keywords, attrs, c.Active).Scan(&c.ID)
	return c, err
}
