package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"kontakt/internal/auth"
)

// Handler serves the recordings API:
//
//	GET    /api/v1/recordings/{id}                   metadata
//	GET    /api/v1/recordings/{id}/audio?purpose=P   the audio (Range requests; &download=1 to save)
//	GET    /api/v1/recordings/{id}/access-log        who accessed it, when, why
//	POST   /api/v1/recordings/{id}/hold              {"reason": "...", "until": RFC 3339}: legal hold
//	DELETE /api/v1/recordings/{id}/hold              {"reason": "..."} (optional): lift the hold
//	GET    /api/v1/users/{id}/recording-access       a user's accesses (?since=&until=&limit=)
//
// Supervisors and administrators may do everything; a consultant may read the metadata of and
// listen to recordings of their own calls when Options.ConsultantsOwnCalls is set. Every access
// to the audio is logged before the first byte is served; when the log cannot be written nothing
// is served. The request's principal comes from auth.WithPrincipal (the sign-in middleware).
// Errors are JSON: {"error": {"code": "...", "message": "...", "fields": {"purpose": "..."}}}.
type Handler struct {
	a   *Archive
	log *slog.Logger
	mux *http.ServeMux
}

// NewHandler returns the recordings API over an archive.
func NewHandler(a *Archive) *Handler {
	h := &Handler{a: a, log: a.log.With("api", "recordings"), mux: http.NewServeMux()}
	h.Register(h.mux)
	return h
}

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/recordings/{id}", h.metadata)
	mux.HandleFunc("GET /api/v1/recordings/{id}/audio", h.audio)
	mux.HandleFunc("GET /api/v1/recordings/{id}/access-log", h.accessLog)
	mux.HandleFunc("POST /api/v1/recordings/{id}/hold", h.setHold)
	mux.HandleFunc("DELETE /api/v1/recordings/{id}/hold", h.clearHold)
	mux.HandleFunc("GET /api/v1/users/{id}/recording-access", h.userAccess)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// apiError is the body of every error response.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, message string, fields map[string]string) {
	writeJSON(w, status, apiError{errorBody{Code: code, Message: message, Fields: fields}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encoding the response failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// staff may do everything with recordings.
func staff(p auth.Principal) bool { return p.Has(auth.RoleSupervisor, auth.RoleAdministrator) }

// authorise returns the principal, or writes 401 (not signed in) or 403 (none of the roles that
// may use this endpoint; ownCalls lets a consultant through when consultants may hear their own
// calls, the recording then being checked by mayRead).
func (h *Handler) authorise(w http.ResponseWriter, r *http.Request, ownCalls bool) (auth.Principal, bool) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first", nil)
		return p, false
	}
	if staff(p) || (ownCalls && h.a.o.ConsultantsOwnCalls && p.Has(auth.RoleConsultant)) {
		return p, true
	}
	if ownCalls && h.a.o.ConsultantsOwnCalls {
		writeError(w, http.StatusForbidden, "forbidden", "recordings are for supervisors, administrators and the consultant who took the call", nil)
	} else {
		writeError(w, http.StatusForbidden, "forbidden", "recordings are for supervisors and administrators", nil)
	}
	return p, false
}

// recording loads the recording named in the path and checks that p may read it.
func (h *Handler) recording(w http.ResponseWriter, r *http.Request, p auth.Principal) (Recording, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "the recording id must be a positive integer",
			map[string]string{"id": "not a recording id"})
		return Recording{}, false
	}
	rec, err := h.a.Get(r.Context(), ID(id))
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no recording %d", id), nil)
		return rec, false
	}
	if err != nil {
		h.internal(w, r, err)
		return rec, false
	}
	if !staff(p) && !rec.HasAgent(p.UserID) {
		writeError(w, http.StatusForbidden, "forbidden", "a consultant may only access recordings of their own calls", nil)
		return rec, false
	}
	return rec, true
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("recordings API", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error", nil)
}

func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	p, ok := h.authorise(w, r, true)
	if !ok {
		return
	}
	rec, ok := h.recording(w, r, p)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *Handler) audio(w http.ResponseWriter, r *http.Request) {
	p, ok := h.authorise(w, r, true)
	if !ok {
		return
	}
	rec, ok := h.recording(w, r, p)
	if !ok {
		return
	}
	q := r.URL.Query()
	fields := map[string]string{}
	purpose, err := ParsePurpose(q.Get("purpose"))
	if err != nil {
		if q.Get("purpose") == "" {
			fields["purpose"] = "required: say why you access the recording (" + purposeList() + ")"
		} else {
			fields["purpose"] = err.Error()
		}
	}
	action := ActionListen
	switch q.Get("download") {
	case "", "0", "false":
	case "1", "true":
		action = ActionDownload
	default:
		fields["download"] = "must be 1 or 0"
	}
	if len(fields) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "the request is not valid", fields)
		return
	}
	switch rec.State {
	case StateFinalised:
	case StatePurged:
		writeError(w, http.StatusGone, "purged", fmt.Sprintf("recording %d was deleted at the end of its retention period", rec.ID), nil)
		return
	case StateRecording:
		writeError(w, http.StatusConflict, "not_ready", fmt.Sprintf("recording %d is still being recorded", rec.ID), nil)
		return
	default:
		writeError(w, http.StatusConflict, "failed", fmt.Sprintf("recording %d failed: %s", rec.ID, rec.FailureReason), nil)
		return
	}
	path, err := h.a.abs(rec.StoragePath)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		h.log.Error("recording file unavailable", "recording", rec.ID, "path", rec.StoragePath, "err", err)
		writeError(w, http.StatusInternalServerError, "file_unavailable", "the recording's file is not in the archive", nil)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() != rec.Bytes {
		h.log.Error("recording file does not match its row", "recording", rec.ID, "path", rec.StoragePath, "err", err)
		writeError(w, http.StatusInternalServerError, "integrity", "the recording's file does not match its metadata", nil)
		return
	}
	ip := ""
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip = host
	}
	logID, err := h.a.LogAccess(r.Context(), AccessEntry{RecordingID: rec.ID, UserID: p.UserID, Purpose: purpose,
		Action: action, Ranges: r.Header.Get("Range"), ClientIP: ip, UserAgent: r.UserAgent()})
	if err != nil {
		h.log.Error("access not logged: recording not served", "recording", rec.ID, "user", p.UserID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "audit_unavailable",
			"the access could not be logged, so the recording is not served; try again later", nil)
		return
	}
	h.log.Info("recording accessed", "recording", rec.ID, "user", p.UserID, "purpose", string(purpose),
		"action", string(action), "range", r.Header.Get("Range"), "access", logID)
	name := fmt.Sprintf("recording-%d.wav", rec.ID)
	disposition := "inline"
	if action == ActionDownload {
		disposition = "attachment"
	}
	hd := w.Header()
	hd.Set("Content-Type", "audio/wav")
	hd.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+rec.SHA256+`"`)
	// The access log entry's id travels with the audio, so a saved file can be traced to it.
	hd.Set("X-Kontakt-Access-Id", strconv.FormatInt(logID, 10))
	var mod time.Time
	if rec.FinalisedAt != nil {
		mod = *rec.FinalisedAt
	}
	http.ServeContent(w, r, name, mod, f)
}

func (h *Handler) accessLog(w http.ResponseWriter, r *http.Request) {
	p, ok := h.authorise(w, r, false)
	if !ok {
		return
	}
	rec, ok := h.recording(w, r, p)
	if !ok {
		return
	}
	entries, err := h.a.AccessLog(r.Context(), rec.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recording_id": rec.ID, "entries": entries})
}

// Bounds of the per-user report.
const (
	defaultAccessLimit = 1000
	maxAccessLimit     = 10000
)

func (h *Handler) userAccess(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.authorise(w, r, false); !ok {
		return
	}
	fields := map[string]string{}
	user, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || user <= 0 {
		fields["id"] = "not a user id"
	}
	q := r.URL.Query()
	var since, until time.Time
	for name, t := range map[string]*time.Time{"since": &since, "until": &until} {
		if s := q.Get(name); s != "" {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				fields[name] = "must be an RFC 3339 time like 2026-05-01T00:00:00+02:00"
			}
			*t = v
		}
	}
	limit := defaultAccessLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAccessLimit {
			fields["limit"] = fmt.Sprintf("must be a number from 1 to %d", maxAccessLimit)
		}
		limit = n
	}
	if len(fields) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "the request is not valid", fields)
		return
	}
	entries, err := h.a.UserAccess(r.Context(), user, since, until, limit)
	if errors.Is(err, ErrNoUser) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no user %d", user), nil)
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": user, "entries": entries})
}

// HoldRequest is the body of POST (and, reason only, DELETE) /api/v1/recordings/{id}/hold.
type HoldRequest struct {
	Reason string    `json:"reason"`
	Until  time.Time `json:"until"`
}

// maxBody bounds request bodies.
const maxBody = 16 << 10

// DecodeHoldRequest reads a hold request strictly: one JSON object, known keys only, and for a
// set (set true) a reason and an until; problems are returned per field.
func DecodeHoldRequest(body []byte, set bool) (HoldRequest, map[string]string) {
	var req HoldRequest
	fields := map[string]string{}
	if len(bytes.TrimSpace(body)) == 0 {
		if set {
			fields["reason"], fields["until"] = "missing", "missing"
			return req, fields
		}
		return req, nil
	}
	var raw struct {
		Reason *string `json:"reason"`
		Until  *string `json:"until"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			fields[strings.Trim(f, `"`)] = "unknown field"
		} else {
			fields["(body)"] = "not a JSON object with reason and until: " + msg
		}
		return req, fields
	}
	if dec.More() {
		fields["(body)"] = "more than one JSON value"
		return req, fields
	}
	if raw.Reason != nil {
		req.Reason = strings.TrimSpace(*raw.Reason)
	}
	if len(req.Reason) > MaxHoldReason {
		fields["reason"] = fmt.Sprintf("longer than %d bytes", MaxHoldReason)
	}
	if set && req.Reason == "" {
		fields["reason"] = "missing: say why the recording must be kept"
	}
	if raw.Until != nil {
		t, err := time.Parse(time.RFC3339, *raw.Until)
		if err != nil {
			fields["until"] = "must be an RFC 3339 time like 2027-01-31T00:00:00+01:00"
		}
		req.Until = t
	}
	if set && raw.Until == nil {
		fields["until"] = "missing: until when the recording must be kept"
	}
	if !set && raw.Until != nil {
		fields["until"] = "not used when lifting a hold"
	}
	if len(fields) > 0 {
		return req, fields
	}
	return req, nil
}

func (h *Handler) readHold(w http.ResponseWriter, r *http.Request, set bool) (HoldRequest, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the body is larger than %d bytes", maxBody), nil)
		return HoldRequest{}, false
	}
	req, fields := DecodeHoldRequest(body, set)
	if fields != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the request is not valid", fields)
		return req, false
	}
	return req, true
}

func (h *Handler) setHold(w http.ResponseWriter, r *http.Request) {
	p, ok := h.authorise(w, r, false)
	if !ok {
		return
	}
	rec, ok := h.recording(w, r, p)
	if !ok {
		return
	}
	req, ok := h.readHold(w, r, true)
	if !ok {
		return
	}
	out, err := h.a.SetHold(r.Context(), p, rec.ID, req.Reason, req.Until)
	h.holdResult(w, r, out, err)
}

func (h *Handler) clearHold(w http.ResponseWriter, r *http.Request) {
	p, ok := h.authorise(w, r, false)
	if !ok {
		return
	}
	rec, ok := h.recording(w, r, p)
	if !ok {
		return
	}
	req, ok := h.readHold(w, r, false)
	if !ok {
		return
	}
	out, err := h.a.ClearHold(r.Context(), p, rec.ID, req.Reason)
	h.holdResult(w, r, out, err)
}

func (h *Handler) holdResult(w http.ResponseWriter, r *http.Request, out Recording, err error) {
	var inv *InvalidError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, out)
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, "invalid_request", "the request is not valid", map[string]string{inv.Field: inv.Message})
	case errors.Is(err, ErrPurged):
		writeError(w, http.StatusGone, "purged", "the recording was deleted at the end of its retention period; there is nothing to hold", nil)
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", "legal holds are for supervisors and administrators", nil)
	default:
		h.internal(w, r, err)
	}
}
