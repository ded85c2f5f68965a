// Package open311 is Kontakt's Open311 GeoReport v2 endpoint set, for the web portal and the
// mobile app (and anyone with an API key): the service list (the categories), service
// definitions (their attributes), filing a request (it becomes a ticket with the client's
// channel, web_form or mobile_app), reading requests, and tokens. JSON and XML, as the
// specification says, with its element names; errors as a list of {code, description}.
//
// Requests carry nothing about the resident who filed them (name, phone, e-mail); the
// description is shown only for requests filed through Open311 itself, never for the notes a
// consultant wrote on a phone ticket.
package open311

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kontakt/internal/crm"
	"kontakt/internal/ticket"
)

// Options configures the endpoint.
type Options struct {
	// Jurisdiction is this endpoint's jurisdiction_id; a request naming another is refused. Empty
	// accepts any.
	Jurisdiction string
	Log          *slog.Logger
}

// Handler serves /open311/v2.
type Handler struct {
	svc  *crm.Service
	o    Options
	log  *slog.Logger
	mux  *http.ServeMux
	zone *time.Location
}

// NewHandler returns the Open311 handler over the CRM service. It needs no principal: GET is
// public, POST takes an api_key.
func NewHandler(svc *crm.Service, o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, o: o, log: o.Log.With("component", "open311"), mux: http.NewServeMux(), zone: svc.Now().Location()}
	h.Register(h.mux)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Register adds the Open311 routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /open311/v2/{file}", h.top)
	mux.HandleFunc("POST /open311/v2/{file}", h.post)
	mux.HandleFunc("GET /open311/v2/services/{file}", h.definition)
	mux.HandleFunc("GET /open311/v2/requests/{file}", h.request)
	mux.HandleFunc("GET /open311/v2/tokens/{file}", h.token)
}

// split reads "requests.json" as ("requests", "json"); ok is false for another format.
func split(file string) (name, format string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return file, "json", false
	}
	name, format = file[:i], file[i+1:]
	return name, format, format == "json" || format == "xml"
}

func (h *Handler) jurisdiction(w http.ResponseWriter, format, j string) bool {
	if j != "" && h.o.Jurisdiction != "" && j != h.o.Jurisdiction {
		writeError(w, format, http.StatusNotFound, "jurisdiction_id "+strconv.Quote(j)+" not found")
		return false
	}
	return true
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, format string, err error) {
	if errors.Is(err, crm.ErrNotFound) {
		writeError(w, format, http.StatusNotFound, "not found")
		return
	}
	h.log.Error("open311 request failed", "path", r.URL.Path, "err", err)
	writeError(w, format, http.StatusInternalServerError, "internal error")
}

func (h *Handler) top(w http.ResponseWriter, r *http.Request) {
	name, format, ok := split(r.PathValue("file"))
	switch {
	case !ok:
		writeError(w, "json", http.StatusNotFound, "format must be json or xml")
	case !h.jurisdiction(w, format, r.URL.Query().Get("jurisdiction_id")):
	case name == "services":
		h.services(w, r, format)
	case name == "requests":
		h.requests(w, r, format)
	default:
		writeError(w, format, http.StatusNotFound, "no such resource: "+name)
	}
}

func (h *Handler) services(w http.ResponseWriter, r *http.Request, format string) {
	cats, err := h.svc.Categories(r.Context(), false)
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	out := []Service{}
	for _, c := range cats {
		if c.Kind == ticket.KindOutOfScope {
			continue
		}
		desc := c.Description
		if desc == "" {
			desc = c.Name
		}
		out = append(out, Service{Code: c.Code, Name: c.Name, Description: desc, Metadata: len(c.Attributes) > 0,
			Type: "realtime", Keywords: strings.Join(c.Keywords, ", "), Group: c.Group})
	}
	write(w, format, http.StatusOK, out, servicesXML{Items: out})
}

func (h *Handler) category(ctx context.Context, code string) (crm.Category, error) {
	c, err := h.svc.Category(ctx, code)
	if err == nil && (!c.Active || c.Kind == ticket.KindOutOfScope) {
		err = crm.ErrNotFound
	}
	return c, err
}

func (h *Handler) definition(w http.ResponseWriter, r *http.Request) {
	code, format, ok := split(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "format must be json or xml")
		return
	}
	if !h.jurisdiction(w, format, r.URL.Query().Get("jurisdiction_id")) {
		return
	}
	c, err := h.category(r.Context(), code)
	if errors.Is(err, crm.ErrNotFound) {
		writeError(w, format, http.StatusNotFound, "service_code "+strconv.Quote(code)+" not found")
		return
	}
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	d := Definition{Code: c.Code, Attributes: []Attribute{}}
	for _, a := range c.Attributes {
		at := Attribute{Variable: true, Code: a.Code, Datatype: a.Datatype, Required: a.Required, Order: a.Order, Description: a.Description}
		for _, v := range a.Values {
			at.Values = append(at.Values, Value{Key: v.Key, Name: v.Name})
		}
		d.Attributes = append(d.Attributes, at)
	}
	write(w, format, http.StatusOK, d, d)
}

// NewRequest is a POST requests body, decoded.
type NewRequest struct {
	APIKey        string
	Jurisdiction  string
	ServiceCode   string
	Lat, Long     *float64
	AddressString string
	AddressID     string
	Email         string
	DeviceID      string
	AccountID     string
	FirstName     string
	LastName      string
	Phone         string
	Description   string
	MediaURL      string
	// Attributes are attribute[CODE]=value (and attribute[CODE][]=value for lists).
	Attributes map[string][]string
}

var attrRE = regexp.MustCompile(`^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$`)

// Known form fields of POST requests.
var known = map[string]bool{"api_key": true, "jurisdiction_id": true, "service_code": true, "lat": true, "long": true,
	"address_string": true, "address_id": true, "email": true, "device_id": true, "account_id": true, "first_name": true,
	"last_name": true, "phone": true, "description": true, "media_url": true}

// DecodeRequest reads the form of POST requests, reporting every problem as a 400 error.
func DecodeRequest(v url.Values) (NewRequest, []Error) {
	var errs []Error
	bad := func(format string, args ...any) {
		errs = append(errs, Error{Code: http.StatusBadRequest, Description: fmt.Sprintf(format, args...)})
	}
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	n := NewRequest{APIKey: get("api_key"), Jurisdiction: get("jurisdiction_id"), ServiceCode: get("service_code"),
		AddressString: get("address_string"), AddressID: get("address_id"), Email: get("email"), DeviceID: get("device_id"),
		AccountID: get("account_id"), FirstName: get("first_name"), LastName: get("last_name"), Phone: get("phone"),
		Description: get("description"), MediaURL: get("media_url")}
	for k, vals := range v {
		if m := attrRE.FindStringSubmatch(k); m != nil {
			if n.Attributes == nil {
				n.Attributes = map[string][]string{}
			}
			n.Attributes[m[1]] = append(n.Attributes[m[1]], vals...)
		} else if strings.HasPrefix(k, "attribute") {
			bad("%s: an attribute is written attribute[CODE]", k)
		}
	}
	if n.ServiceCode == "" {
		bad("service_code is required")
	}
	for _, c := range []struct {
		name  string
		dst   **float64
		limit float64
	}{{"lat", &n.Lat, 90}, {"long", &n.Long, 180}} {
		if s := get(c.name); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f != f || f < -c.limit || f > c.limit {
				bad("%s must be a number between -%g and %g", c.name, c.limit, c.limit)
				continue
			}
			*c.dst = &f
		}
	}
	if (get("lat") == "") != (get("long") == "") {
		bad("lat and long go together")
	}
	if get("lat") == "" && n.AddressString == "" && n.AddressID == "" {
		bad("a location is required: lat and long, address_string or address_id")
	}
	if len([]rune(n.Description)) > 4000 {
		bad("description is limited to 4,000 characters")
	}
	for _, s := range []struct{ name, v string }{{"address_string", n.AddressString}, {"address_id", n.AddressID},
		{"first_name", n.FirstName}, {"last_name", n.LastName}, {"device_id", n.DeviceID}, {"account_id", n.AccountID}} {
		if len([]rune(s.v)) > 300 {
			bad("%s is limited to 300 characters", s.name)
		}
	}
	return n, errs
}

// ID writes a ticket number as an Open311 service_request_id: 2026-000123 (a slash does not fit
// in a URL path).
func ID(n ticket.Number) string { return strings.Replace(n.String(), "/", "-", 1) }

// ParseID reads a service_request_id: 2026-000123, 2026/000123 or the keypad form 2026000123.
func ParseID(s string) (ticket.Number, error) {
	if strings.ContainsAny(s, "-/") {
		return ticket.ParseNumber(strings.Replace(s, "-", "/", 1))
	}
	return ticket.ParseNumberDigits(s)
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	name, format, ok := split(r.PathValue("file"))
	if !ok || name != "requests" {
		writeError(w, format, http.StatusNotFound, "POST requests.json or requests.xml")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		writeError(w, format, http.StatusBadRequest, "the body must be a form (application/x-www-form-urlencoded)")
		return
	}
	nr, errs := DecodeRequest(r.PostForm)
	if !h.jurisdiction(w, format, nr.Jurisdiction) {
		return
	}
	if nr.APIKey == "" {
		writeError(w, format, http.StatusForbidden, "api_key is required")
		return
	}
	client, err := h.svc.Open311ClientByKey(r.Context(), nr.APIKey)
	if errors.Is(err, crm.ErrNotFound) {
		writeError(w, format, http.StatusForbidden, "api_key is invalid")
		return
	}
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	if len(errs) > 0 {
		writeErrors(w, format, http.StatusBadRequest, errs)
		return
	}
	c, err := h.category(r.Context(), nr.ServiceCode)
	if errors.Is(err, crm.ErrNotFound) {
		writeError(w, format, http.StatusBadRequest, "service_code "+strconv.Quote(nr.ServiceCode)+" not found")
		return
	}
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	attrs, errs := checkAttributes(c, nr.Attributes)
	if len(errs) > 0 {
		writeErrors(w, format, http.StatusBadRequest, errs)
		return
	}
	desc := nr.Description
	if desc == "" {
		desc = c.Name
	}
	addr := crm.Address{Text: nr.AddressString, Lat: nr.Lat, Lon: nr.Long}
	if addr.Text == "" {
		addr.Text = nr.AddressID
	}
	note := "Open311: " + client.Name
	if nr.DeviceID != "" {
		note += ", device " + nr.DeviceID
	}
	if nr.AccountID != "" {
		note += ", account " + nr.AccountID
	}
	t, token, err := h.svc.CreateOpen311Request(r.Context(), client, crm.NewTicket{Category: c.Code, Description: desc,
		CallerName: strings.TrimSpace(nr.FirstName + " " + nr.LastName), CallerPhone: nr.Phone, CallerEmail: nr.Email,
		Address: addr, Attributes: attrs, MediaURL: nr.MediaURL, Note: note})
	var ve *crm.ValidationError
	if errors.As(err, &ve) {
		var errs []Error
		for _, f := range ve.Fields {
			errs = append(errs, Error{Code: http.StatusBadRequest, Description: open311Field(f.Field) + ": " + f.Message})
		}
		writeErrors(w, format, http.StatusBadRequest, errs)
		return
	}
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	notice := "Zgłoszenie " + t.Number.String() + " przyjęte."
	if !t.Due.IsZero() {
		notice += " Termin realizacji: " + t.Due.Format("2006-01-02 15:04") + "."
	}
	out := []Created{{ID: ID(t.Number), Token: token, ServiceNotice: notice}}
	write(w, format, http.StatusCreated, out, requestsXML{Items: out})
}

// open311Field names a CRM field as the Open311 form does.
func open311Field(f string) string {
	switch f {
	case "caller_phone":
		return "phone"
	case "caller_email":
		return "email"
	case "address.lat":
		return "lat"
	case "address.lon":
		return "long"
	case "address.text":
		return "address_string"
	}
	return f
}

// checkAttributes validates the answers to a service's attributes: required ones given, list
// values among the keys, numbers and datetimes well formed, no unknown codes.
func checkAttributes(c crm.Category, given map[string][]string) (map[string]string, []Error) {
	var errs []Error
	bad := func(format string, args ...any) {
		errs = append(errs, Error{Code: http.StatusBadRequest, Description: fmt.Sprintf(format, args...)})
	}
	defs := map[string]crm.Attribute{}
	for _, a := range c.Attributes {
		defs[a.Code] = a
	}
	out := map[string]string{}
	for code, vals := range given {
		a, ok := defs[code]
		if !ok {
			bad("attribute[%s]: service %s has no such attribute", code, c.Code)
			continue
		}
		if a.Datatype != "multivaluelist" && len(vals) > 1 {
			bad("attribute[%s]: one value", code)
		}
		for _, v := range vals {
			switch a.Datatype {
			case "number":
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					bad("attribute[%s]: a number", code)
				}
			case "datetime":
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					bad("attribute[%s]: a date and time like 2026-05-04T10:00:00+02:00", code)
				}
			case "singlevaluelist", "multivaluelist":
				found := false
				for _, k := range a.Values {
					found = found || k.Key == v
				}
				if !found {
					bad("attribute[%s]: %q is not one of its values", code, v)
				}
			}
			if len(v) > 1000 {
				bad("attribute[%s]: at most 1000 characters", code)
			}
		}
		out[code] = strings.Join(vals, ",")
	}
	for _, a := range c.Attributes {
		if a.Required && out[a.Code] == "" {
			bad("attribute[%s] is required: %s", a.Code, a.Description)
		}
	}
	return out, errs
}

// status is the Open311 status of a ticket, and the notes that explain it.
func (h *Handler) convert(t crm.Ticket) Request {
	rq := Request{ID: ID(t.Number), ServiceName: t.CategoryName, ServiceCode: t.Category, AgencyResponsible: t.UnitName,
		Requested: t.Registered.In(h.zone).Format(time.RFC3339), Updated: t.Updated.In(h.zone).Format(time.RFC3339),
		Address: t.Address.Text, Lat: t.Address.Lat, Long: t.Address.Lon, MediaURL: t.MediaURL}
	if !t.Due.IsZero() {
		rq.Expected = t.Due.In(h.zone).Format(time.RFC3339)
	}
	if t.Channel == ticket.ChannelWebForm || t.Channel == ticket.ChannelMobileApp {
		rq.Description = t.Description
	}
	rq.Status = "open"
	switch t.Status {
	case ticket.StatusNew:
		rq.StatusNotes = "Zgłoszenie przyjęte."
	case ticket.StatusInProgress:
		rq.StatusNotes = "Zgłoszenie w realizacji."
	case ticket.StatusForwarded:
		rq.StatusNotes = "Przekazane do: " + t.UnitName + "."
	case ticket.StatusResolvedByUnit:
		rq.StatusNotes = t.Report.How
	case ticket.StatusClosed:
		rq.Status, rq.StatusNotes = "closed", "Zgłoszenie zakończone."
		if t.Report != nil {
			rq.StatusNotes = t.Report.How
		}
		if t.ForwardedTo != "" {
			rq.StatusNotes = "Sprawa poza właściwością miasta, przekazana do: " + t.ForwardedTo + "."
		}
	case ticket.StatusMerged:
		rq.Status, rq.StatusNotes = "closed", "Zgłoszenie połączone ze zgłoszeniem "+t.MergedIntoNumber+"."
	case ticket.StatusAbandonedCall:
		rq.Status, rq.StatusNotes = "closed", "Zgłoszenie zamknięte."
	}
	return rq
}

func (h *Handler) list(w http.ResponseWriter, format string, ts []crm.Ticket) {
	out := make([]Request, 0, len(ts))
	for _, t := range ts {
		out = append(out, h.convert(t))
	}
	write(w, format, http.StatusOK, out, requestsXML{Items: out})
}

func (h *Handler) requests(w http.ResponseWriter, r *http.Request, format string) {
	q := r.URL.Query()
	var f crm.Open311Filter
	var errs []Error
	bad := func(format string, args ...any) {
		errs = append(errs, Error{Code: http.StatusBadRequest, Description: fmt.Sprintf(format, args...)})
	}
	for _, id := range splitList(q.Get("service_request_id")) {
		n, err := ParseID(id)
		if err != nil {
			bad("service_request_id %q: want 2026-000123", id)
			continue
		}
		f.Numbers = append(f.Numbers, n)
	}
	f.Services = splitList(q.Get("service_code"))
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"start_date", &f.Start}, {"end_date", &f.End}} {
		if s := q.Get(d.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				bad("%s: a w3c date and time like 2026-05-04T00:00:00Z", d.name)
			}
			*d.dst = t
		}
	}
	// At most 90 days at a time; the last 90 days when no dates are given.
	switch {
	case f.Start.IsZero() && f.End.IsZero():
		f.Start = h.svc.Now().AddDate(0, 0, -90)
	case f.Start.IsZero():
		f.Start = f.End.AddDate(0, 0, -90)
	case !f.End.IsZero() && f.End.Sub(f.Start) > 90*24*time.Hour:
		bad("start_date and end_date may not span more than 90 days")
	case !f.End.IsZero() && f.End.Before(f.Start):
		bad("end_date is before start_date")
	}
	for _, s := range splitList(q.Get("status")) {
		switch s {
		case "open", "closed":
			if f.Status == "" {
				f.Status = s
			} else if f.Status != s {
				f.Status = "" // both
			}
		default:
			bad("status %q: open or closed", s)
		}
	}
	if len(errs) > 0 {
		writeErrors(w, format, http.StatusBadRequest, errs)
		return
	}
	ts, err := h.svc.Open311Requests(r.Context(), f)
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	h.list(w, format, ts)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (h *Handler) request(w http.ResponseWriter, r *http.Request) {
	id, format, ok := split(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "format must be json or xml")
		return
	}
	if !h.jurisdiction(w, format, r.URL.Query().Get("jurisdiction_id")) {
		return
	}
	n, err := ParseID(id)
	if err != nil {
		writeError(w, format, http.StatusNotFound, "service_request_id "+strconv.Quote(id)+" not found")
		return
	}
	ts, err := h.svc.Open311Requests(r.Context(), crm.Open311Filter{Numbers: []ticket.Number{n}})
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	if len(ts) == 0 {
		writeError(w, format, http.StatusNotFound, "service_request_id "+strconv.Quote(id)+" not found")
		return
	}
	h.list(w, format, ts)
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	tok, format, ok := split(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "format must be json or xml")
		return
	}
	if !h.jurisdiction(w, format, r.URL.Query().Get("jurisdiction_id")) {
		return
	}
	t, err := h.svc.TicketByToken(r.Context(), tok)
	if errors.Is(err, crm.ErrNotFound) {
		writeError(w, format, http.StatusNotFound, "token not found")
		return
	}
	if err != nil {
		h.fail(w, r, format, err)
		return
	}
	out := []TokenAnswer{{ID: ID(t.Number), Token: tok}}
	write(w, format, http.StatusOK, out, requestsXML{Items: out})
}
