package crm

import (
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"kontakt/internal/auth"
	"kontakt/internal/ticket"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the CRM's endpoints.
func OpenAPI() []byte { return openAPI }

// Handler serves the CRM's REST API under /api/v1 (staff: a principal is required, see
// internal/auth) and the public knowledge base under /public/v1.
type Handler struct {
	svc *Service
	log *slog.Logger
	mux *http.ServeMux
}

// NewHandler returns the CRM's HTTP handler. Mount it with Register on the app's mux (each route
// is registered by its own pattern, so other components keep their /api/v1 routes), or serve it
// as a whole.
func NewHandler(svc *Service) *Handler {
	h := &Handler{svc: svc, log: svc.log.With("component", "crm_http"), mux: http.NewServeMux()}
	h.Register(h.mux)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Register adds the CRM's routes to mux. Routes under /api/v1 answer 401 without a principal in
// the request's context; /public/v1 routes are for residents and need none.
func (h *Handler) Register(mux *http.ServeMux) {
	staff := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, a ticket.Actor)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			p, ok := auth.FromContext(r.Context())
			if !ok {
				writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first", nil)
				return
			}
			a, err := h.svc.Actor(r.Context(), p)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			fn(w, r, a)
		})
	}
	mux.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Write(openAPI)
	})
	staff("GET /api/v1/units", h.units)
	staff("POST /api/v1/units", h.saveUnit)
	staff("PUT /api/v1/units/{code}", h.saveUnit)
	staff("GET /api/v1/categories", h.categories)
	staff("GET /api/v1/categories/{code}", h.category)
	staff("POST /api/v1/categories", h.saveCategory)
	staff("PUT /api/v1/categories/{code}", h.saveCategory)
	staff("POST /api/v1/tickets", h.createTicket)
	staff("GET /api/v1/tickets", h.listTickets)
	staff("GET /api/v1/tickets/suggestions", h.suggest)
	staff("GET /api/v1/tickets/{ref}", h.getTicket)
	staff("PATCH /api/v1/tickets/{ref}", h.editTicket)
	staff("POST /api/v1/tickets/{ref}/actions", h.act)
	staff("GET /api/v1/tickets/{ref}/history", h.history)
	staff("POST /api/v1/tickets/{ref}/link", h.link)
	staff("GET /api/v1/tickets/{ref}/articles", h.ticketArticles)
	staff("POST /api/v1/tickets/{ref}/articles", h.useArticle)
	staff("GET /api/v1/screen-pop", h.screenPop)
	staff("GET /api/v1/articles", h.searchArticles)
	staff("POST /api/v1/articles", h.createArticle)
	staff("GET /api/v1/articles/suggestions", h.suggestArticles)
	staff("GET /api/v1/articles/{id}", h.getArticle)
	staff("PUT /api/v1/articles/{id}", h.updateArticle)
	staff("DELETE /api/v1/articles/{id}", h.withdrawArticle)
	staff("GET /api/v1/articles/{id}/versions", h.articleVersions)
	staff("GET /api/v1/articles/{id}/versions/{version}", h.articleVersion)
	staff("POST /api/v1/open311-clients", h.createOpen311Client)
	mux.HandleFunc("GET /public/v1/articles", h.publicSearch)
	mux.HandleFunc("GET /public/v1/articles/{id}", h.publicArticle)
}

// errorBody is every error's shape: {"error": {"code", "message", "fields"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, f []FieldError) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg, Fields: f}})
}

// fail answers with err's status: 400 malformed body, 422 invalid fields, 403 not allowed, 404
// not found or not visible, 409 not allowed in the ticket's state or edited meanwhile.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *BadRequest
	var ve *ValidationError
	var te *ticket.Error
	switch {
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, "bad_request", br.Error(), br.Fields)
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, "validation", ve.Error(), ve.Fields)
	case errors.As(err, &te):
		status := http.StatusConflict
		var f []FieldError
		switch te.Code {
		case ticket.CodeInvalidActor, ticket.CodeRoleNotAllowed, ticket.CodeOtherUnit, ticket.CodeNotOwner:
			status = http.StatusForbidden
		case ticket.CodeInvalidField:
			status = http.StatusUnprocessableEntity
			f = []FieldError{{Field: te.Field, Code: "invalid", Message: te.Message}}
		}
		writeError(w, status, string(te.Code), te.Message, f)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found", nil)
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", err.Error(), nil)
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error(), nil)
	default:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error", nil)
	}
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, &BadRequest{Fields: []FieldError{{Field: "body", Code: "unreadable", Message: err.Error()}}}
	}
	return b, nil
}

// ticketRef resolves the {ref} of a path: an id (digits), or a number as 2026/000123 (escaped
// %2F) or 2026-000123.
func (h *Handler) ticketRef(r *http.Request, a ticket.Actor, ref string) (Ticket, error) {
	if strings.ContainsAny(ref, "/-") {
		n, err := ticket.ParseNumber(strings.Replace(ref, "-", "/", 1))
		if err != nil {
			return Ticket{}, &BadRequest{Fields: []FieldError{{Field: "ref", Code: "invalid", Message: err.Error()}}}
		}
		return h.svc.TicketByNumber(r.Context(), a, n)
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return Ticket{}, &BadRequest{Fields: []FieldError{{Field: "ref", Code: "invalid", Message: "a ticket id or number (2026-000123)"}}}
	}
	return h.svc.Ticket(r.Context(), a, ticket.ID(id))
}

func (h *Handler) units(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	us, err := h.svc.Units(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": us})
}

func (h *Handler) saveUnit(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := DecodeUnit(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if code := r.PathValue("code"); code != "" {
		if _, err := h.svc.Unit(r.Context(), code); err != nil {
			h.fail(w, r, err)
			return
		}
		u.Code, status = code, http.StatusOK
	}
	u, err = h.svc.SaveUnit(r.Context(), a, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, u)
}

func (h *Handler) categories(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	cs, err := h.svc.Categories(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": cs})
}

func (h *Handler) category(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	c, err := h.svc.Category(r.Context(), r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) saveCategory(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := DecodeCategory(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if code := r.PathValue("code"); code != "" {
		if _, err := h.svc.Category(r.Context(), code); err != nil {
			h.fail(w, r, err)
			return
		}
		c.Code, status = code, http.StatusOK
	}
	c, err = h.svc.SaveCategory(r.Context(), a, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, c)
}

func (h *Handler) createTicket(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	nt, err := DecodeNewTicket(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.svc.CreateTicket(r.Context(), a, nt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID.String())
	writeJSON(w, http.StatusCreated, t)
}

// ParseFilter reads a ticket list's query parameters.
func ParseFilter(q map[string][]string) (Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var f fields
	flt := Filter{Unit: get("unit"), Category: get("category"), CallerPhone: get("caller_phone")}
	if s := get("status"); s != "" {
		for _, name := range strings.Split(s, ",") {
			st, err := ticket.ParseStatus(strings.TrimSpace(name))
			if err != nil || st == ticket.StatusUnknown {
				f.add("status", "invalid", "%q is not a status", name)
				continue
			}
			flt.Status = append(flt.Status, st)
		}
	}
	if s := get("overdue"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			f.add("overdue", "invalid", "true or false")
		}
		flt.Overdue = b
	}
	ints := []struct {
		name string
		dst  *int64
	}{{"owner", (*int64)(&flt.Owner)}, {"cursor", (*int64)(&flt.Before)}}
	for _, it := range ints {
		if s := get(it.name); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v < 0 {
				f.add(it.name, "invalid", "a positive integer")
			}
			*it.dst = v
		}
	}
	if s := get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 200 {
			f.add("limit", "out_of_range", "a page has 1–200 tickets")
		}
		flt.Limit = v
	}
	if s := get("number"); s != "" {
		n, err := ticket.ParseNumber(strings.Replace(s, "-", "/", 1))
		if err != nil {
			f.add("number", "invalid", "%v", err)
		}
		flt.Number = n
	}
	if err := f.err(); err != nil {
		return flt, &BadRequest{Fields: f}
	}
	return flt, nil
}

func (h *Handler) listTickets(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	flt, err := ParseFilter(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.svc.ListTickets(r.Context(), a, flt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (h *Handler) getTicket(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	t, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *Handler) editTicket(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	t, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	e, err := DecodeEdit(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err = h.svc.EditTicket(r.Context(), a, t.ID, e)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *Handler) act(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	t, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := DecodeAction(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err = h.svc.Act(r.Context(), a, t.ID, req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	t, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hs, err := h.svc.History(r.Context(), a, t.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": hs})
}

func (h *Handler) link(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	draft, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	into, err := DecodeLink(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	target, err := h.ticketRef(r, a, into)
	if err != nil {
		var br *BadRequest
		if errors.As(err, &br) || errors.Is(err, ErrNotFound) {
			err = &ValidationError{Fields: []FieldError{{Field: "into", Code: "unknown", Message: "no ticket " + into}}}
		}
		h.fail(w, r, err)
		return
	}
	res, err := h.svc.Link(r.Context(), a, draft.ID, target.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) ticketArticles(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	t, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, err := h.svc.TicketArticles(r.Context(), a, t.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": as})
}

func (h *Handler) useArticle(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	t, err := h.ticketRef(r, a, r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := DecodeUseArticle(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.svc.UseArticle(r.Context(), a, t.ID, id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func parseCoords(q map[string][]string, f *fields) (lat, lon *float64) {
	for _, c := range []struct {
		name string
		dst  **float64
	}{{"lat", &lat}, {"lon", &lon}} {
		if v := q[c.name]; len(v) > 0 && v[0] != "" {
			x, err := strconv.ParseFloat(v[0], 64)
			if err != nil || x != x {
				f.add(c.name, "invalid", "a number in decimal degrees")
				continue
			}
			*c.dst = &x
		}
	}
	return lat, lon
}

func (h *Handler) suggest(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	q := r.URL.Query()
	var f fields
	sq := SuggestQuery{Category: q.Get("category"), Street: q.Get("street"), Phone: q.Get("phone")}
	sq.Lat, sq.Lon = parseCoords(q, &f)
	if s := q.Get("exclude"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f.add("exclude", "invalid", "a ticket id")
		}
		sq.Exclude = ticket.ID(id)
	}
	if err := f.err(); err != nil {
		h.fail(w, r, &BadRequest{Fields: f})
		return
	}
	s, err := h.svc.Suggest(r.Context(), a, sq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (h *Handler) screenPop(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	if !a.Role.FirstLine() {
		h.fail(w, r, ErrForbidden)
		return
	}
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("ticket"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, &BadRequest{Fields: []FieldError{{Field: "ticket", Code: "required", Message: "the call's ticket id"}}})
		return
	}
	sp, err := h.svc.ScreenPop(r.Context(), ticket.ID(id), q.Get("phone"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sp)
}

func parseArticleQuery(q map[string][]string) (ArticleQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	aq := ArticleQuery{Q: get("q"), Category: get("category")}
	var f fields
	if s := get("include_expired"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			f.add("include_expired", "invalid", "true or false")
		}
		aq.IncludeExpired = b
	}
	if s := get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 50 {
			f.add("limit", "out_of_range", "1–50 results")
		}
		aq.Limit = v
	}
	if err := f.err(); err != nil {
		return aq, &BadRequest{Fields: f}
	}
	return aq, nil
}

func (h *Handler) searchArticles(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	aq, err := parseArticleQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, err := h.svc.SearchArticles(r.Context(), aq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": as})
}

func (h *Handler) suggestArticles(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	cat := r.URL.Query().Get("category")
	if cat == "" {
		h.fail(w, r, &BadRequest{Fields: []FieldError{{Field: "category", Code: "required", Message: "a category code"}}})
		return
	}
	as, err := h.svc.SuggestArticles(r.Context(), cat, 5)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": as})
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}

func (h *Handler) getArticle(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	art, err := h.svc.Article(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, art)
}

func (h *Handler) createArticle(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	if a.Role != ticket.RoleAdministrator {
		h.fail(w, r, ErrForbidden)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	af, _, err := DecodeArticle(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	art, err := h.svc.CreateArticle(r.Context(), a, af)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/articles/"+strconv.FormatInt(art.ID, 10))
	writeJSON(w, http.StatusCreated, art)
}

func (h *Handler) updateArticle(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	if a.Role != ticket.RoleAdministrator {
		h.fail(w, r, ErrForbidden)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	af, version, err := DecodeArticle(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if version <= 0 {
		h.fail(w, r, &ValidationError{Fields: []FieldError{{Field: "version", Code: "required", Message: "the version the edit started from"}}})
		return
	}
	art, err := h.svc.UpdateArticle(r.Context(), a, id, version, af)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, art)
}

func (h *Handler) withdrawArticle(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	art, err := h.svc.WithdrawArticle(r.Context(), a, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, art)
}

func (h *Handler) articleVersions(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vs, err := h.svc.ArticleVersions(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
}

func (h *Handler) articleVersion(w http.ResponseWriter, r *http.Request, _ ticket.Actor) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := pathID(r, "version")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	art, err := h.svc.ArticleVersion(r.Context(), id, int(v))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, art)
}

func (h *Handler) publicSearch(w http.ResponseWriter, r *http.Request) {
	aq, err := parseArticleQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	aq.Public, aq.IncludeExpired = true, false
	as, err := h.svc.SearchArticles(r.Context(), aq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]PublicArticleSummary, len(as))
	for i, a := range as {
		out[i] = a.Public()
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h *Handler) publicArticle(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	art, err := h.svc.PublicArticle(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, art)
}

func (h *Handler) createOpen311Client(w http.ResponseWriter, r *http.Request, a ticket.Actor) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name, ch, err := DecodeOpen311Client(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, key, err := h.svc.CreateOpen311Client(r.Context(), a, name, ch)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"client": c, "api_key": key})
}
