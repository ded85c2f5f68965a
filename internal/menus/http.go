package menus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kontakt/internal/auth"
	"kontakt/ivr"
	"kontakt/ivr/replay"
)

// Register mounts the menu API: administrators edit and publish; supervisors read.
//
//	GET  /api/v1/menus/{menu}/versions                    versions, newest first
//	GET  /api/v1/menus/{menu}/versions/{version}          one version with its document
//	POST /api/v1/menus/validate                           body: a document → problems
//	POST /api/v1/menus/{menu}/drafts                      body: a document → the new draft version
//	POST /api/v1/menus/{menu}/versions/{version}/publish  publish (422 with problems if invalid)
//	POST /api/v1/menus/{menu}/rollback                    {"version": n}: republish an earlier version
//	GET  /api/v1/menus/{menu}/audit                       every save, publish and rollback
//	POST /api/v1/menus/{menu}/replay                      dry run: {"version", "compare_to", "sequences", "from", "to"}
func (s *Service) Register(mux *http.ServeMux) {
	read := []auth.Role{auth.RoleSupervisor, auth.RoleAdministrator}
	write := []auth.Role{auth.RoleAdministrator}
	mux.HandleFunc("GET /api/v1/menus/{menu}/versions", s.guard(read, s.httpVersions))
	mux.HandleFunc("GET /api/v1/menus/{menu}/versions/{version}", s.guard(read, s.httpGet))
	mux.HandleFunc("POST /api/v1/menus/validate", s.guard(write, s.httpValidate))
	mux.HandleFunc("POST /api/v1/menus/{menu}/drafts", s.guard(write, s.httpSaveDraft))
	mux.HandleFunc("POST /api/v1/menus/{menu}/versions/{version}/publish", s.guard(write, s.httpPublish))
	mux.HandleFunc("POST /api/v1/menus/{menu}/rollback", s.guard(write, s.httpRollback))
	mux.HandleFunc("GET /api/v1/menus/{menu}/audit", s.guard(read, s.httpAudit))
	mux.HandleFunc("POST /api/v1/menus/{menu}/replay", s.guard(read, s.httpReplay))
}

type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Code     string       `json:"code"`
	Message  string       `json:"message"`
	Problems ivr.Problems `json:"problems,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, probs ivr.Problems) {
	writeJSON(w, status, errorBody{apiError{Code: code, Message: msg, Problems: probs}})
}

func (s *Service) guard(roles []auth.Role, h func(http.ResponseWriter, *http.Request, auth.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.FromContext(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first", nil)
			return
		}
		if !p.Has(roles...) {
			writeError(w, http.StatusForbidden, "forbidden", "your role may not do this", nil)
			return
		}
		h(w, r, p)
	}
}

func (s *Service) writeErr(w http.ResponseWriter, err error) {
	var inv *InvalidError
	switch {
	case errors.As(err, &inv):
		writeError(w, http.StatusUnprocessableEntity, "invalid_menu",
			fmt.Sprintf("the menu has %d problem(s); a menu with problems cannot be published", len(inv.Problems)), inv.Problems)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), nil)
	default:
		s.log.Error("menu request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "the request could not be completed", nil)
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ivr.MaxDocumentSize+1))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is over %d bytes", ivr.MaxDocumentSize), nil)
		return nil, false
	}
	return b, true
}

func versionParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_field", "version must be a positive whole number", nil)
		return 0, false
	}
	return v, true
}

func (s *Service) httpVersions(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	vs, err := s.Versions(r.Context(), r.PathValue("menu"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if vs == nil {
		vs = []Version{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (s *Service) httpGet(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	v, ok := versionParam(w, r)
	if !ok {
		return
	}
	ver, err := s.Get(r.Context(), r.PathValue("menu"), v)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ver)
}

func (s *Service) httpValidate(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	_, probs := s.Validate(b)
	if probs == nil {
		probs = ivr.Problems{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": len(probs) == 0, "problems": probs})
}

func (s *Service) httpSaveDraft(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	m, probs := ivr.Decode(b)
	if m == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_menu", "the document cannot be read", probs)
		return
	}
	if m.ID != r.PathValue("menu") {
		writeError(w, http.StatusBadRequest, "invalid_field", fmt.Sprintf("the document's id %q is not the menu %q of the URL", m.ID, r.PathValue("menu")), nil)
		return
	}
	v, probs, err := s.SaveDraft(r.Context(), b, p.Login)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if probs == nil {
		probs = ivr.Problems{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"version": v, "problems": probs})
}

func (s *Service) httpPublish(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	v, ok := versionParam(w, r)
	if !ok {
		return
	}
	ver, err := s.Publish(r.Context(), r.PathValue("menu"), v, p.Login)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ver)
}

func (s *Service) httpRollback(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var body struct {
		Version int `json:"version"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Version <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_field", `want {"version": N} with N a positive whole number`, nil)
		return
	}
	ver, err := s.Rollback(r.Context(), r.PathValue("menu"), body.Version, p.Login)
	if err != nil {
		if strings.Contains(err.Error(), "never published") {
			writeError(w, http.StatusConflict, "not_published_before", err.Error(), nil)
			return
		}
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ver)
}

func (s *Service) httpAudit(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	a, err := s.AuditLog(r.Context(), r.PathValue("menu"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if a == nil {
		a = []Audit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": a})
}

// ReplayRequest is a dry run: key sequences (or the real calls of a date range) against a
// version, optionally compared with another.
type ReplayRequest struct {
	Version   int        `json:"version"`
	CompareTo int        `json:"compare_to,omitempty"`
	Sequences []string   `json:"sequences,omitempty"`
	From      *time.Time `json:"from,omitempty"`
	To        *time.Time `json:"to,omitempty"`
	At        *time.Time `json:"at,omitempty"`
}

// ReplayResult is the dry run's answer.
type ReplayResult struct {
	Reports []replay.Report `json:"reports"`
	Changes []replay.Change `json:"changes,omitempty"`
}

// Replay runs a dry run.
func (s *Service) Replay(ctx context.Context, menuID string, req ReplayRequest) (ReplayResult, error) {
	load := func(v int) (*ivr.Menu, error) {
		ver, err := s.Get(ctx, menuID, v)
		if err != nil {
			return nil, err
		}
		m, probs := ivr.Decode(ver.Document)
		if m == nil {
			return nil, &InvalidError{Problems: probs}
		}
		return m, nil
	}
	m, err := load(req.Version)
	if err != nil {
		return ReplayResult{}, err
	}
	seqs := req.Sequences
	if req.From != nil && req.To != nil {
		real, err := s.CallSequences(ctx, menuID, *req.From, *req.To)
		if err != nil {
			return ReplayResult{}, err
		}
		seqs = append(seqs, real...)
	}
	in := replay.Input{Sequences: seqs, At: s.now()}
	if req.At != nil {
		in.At = *req.At
	}
	res := ReplayResult{Reports: replay.Run(m, in)}
	if req.CompareTo > 0 {
		other, err := load(req.CompareTo)
		if err != nil {
			return ReplayResult{}, err
		}
		res.Changes = replay.Diff(m, other, in)
	}
	return res, nil
}

// CallSequences returns the keys real callers pressed in calls that ran menuID between from and
// to, as dry-run sequences (a caller who hung up ends with "h").
func (s *Service) CallSequences(ctx context.Context, menuID string, from, to time.Time) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, coalesce(string_agg(e.data->>'digit', '' ORDER BY e.seq) FILTER (WHERE e.type = 'dtmf'), ''),
			bool_or(e.type = 'caller_hangup')
		FROM calls c JOIN call_events e ON e.call_id = c.id
		WHERE c.menu_id = $1 AND c.started_at >= $2 AND c.started_at < $3
		GROUP BY c.id, c.started_at ORDER BY c.started_at`, menuID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, keys string
		var hung bool
		if err := rows.Scan(&id, &keys, &hung); err != nil {
			return nil, err
		}
		if hung {
			keys += "h"
		}
		out = append(out, keys)
	}
	return out, rows.Err()
}

func (s *Service) httpReplay(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	var req ReplayRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", "the body must be a replay request: "+err.Error(), nil)
		return
	}
	if req.Version <= 0 || (len(req.Sequences) == 0 && (req.From == nil || req.To == nil)) {
		writeError(w, http.StatusBadRequest, "invalid_field", "give a version and sequences, or from and to (the real calls of that range)", nil)
		return
	}
	res, err := s.Replay(r.Context(), r.PathValue("menu"), req)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
