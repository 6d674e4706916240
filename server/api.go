package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// The admin API: respond.io's Developer API v2 shapes under /v2, and
// flowd's own additions under /v2/flowd/. Every change is an event for the
// engine, an outside change that fires triggers as an agent's would; reads
// read the store.

// MaxAPIBody bounds an admin API request's body.
const MaxAPIBody = 256 << 10

// api wraps an admin API handler: the API token is checked first, then the
// handler's error, if any, is answered in the one error shape.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.APIToken == "" {
			writeError(w, &apiError{Code: http.StatusUnauthorized, Message: "the admin API is off: set FLOWD_API_TOKEN (or the workspace's api.token_env) and restart"})
			return
		}
		if !sameToken(bearer(r), s.cfg.APIToken) {
			writeError(w, &apiError{Code: http.StatusUnauthorized, Message: "the API token is wanted: Authorization: Bearer <token>"})
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, asAPIError(err))
		}
	}
}

// asAPIError gives an error its status: the engine's not found, exists and
// conflict, and its own 4xx; anything else is a 500.
func asAPIError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound), errors.Is(err, runtime.ErrNoFlow):
		return &apiError{Code: http.StatusNotFound, Message: err.Error()}
	case errors.Is(err, runtime.ErrLimit):
		return &apiError{Code: http.StatusBadRequest, Message: err.Error()}
	case errors.Is(err, runtime.ErrExists), errors.Is(err, store.ErrConflict):
		return &apiError{Code: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, runtime.ErrClosed):
		return &apiError{Code: http.StatusServiceUnavailable, Message: "flowd is stopping: retry"}
	}
	return &apiError{Code: http.StatusInternalServerError, Message: err.Error()}
}

// submit hands events to the engine and returns the first one's error.
func (s *Server) submit(ctx context.Context, evs ...runtime.Event) error {
	for _, err := range s.cfg.Submit(ctx, evs) {
		if err != nil {
			return err
		}
	}
	return nil
}

// read runs fn in a transaction that only reads.
func (s *Server) read(ctx context.Context, fn func(tx store.Tx) error) error {
	tx, err := s.cfg.Engine.Store().Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// contactID is the contact the request's {identifier} names.
func (s *Server) contactID(r *http.Request) (string, error) {
	ident := r.PathValue("identifier")
	if _, _, err := runtime.ParseIdentifier(ident); err != nil {
		return "", badRequest("identifier", "%v", err)
	}
	return s.cfg.Engine.Find(r.Context(), ident)
}

// decodeBody reads a JSON body of at most MaxAPIBody bytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, MaxAPIBody)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return badRequest("", "a JSON body is wanted")
	}
	if err := decodeJSON(b, v); err != nil {
		return err
	}
	return nil
}

// queryInt reads an integer query parameter within [lo, hi], def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(name, "%s %q: want a number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// okContact is respond.io's answer to a change: {contactId}.
func okContact(w http.ResponseWriter, id string) error {
	writeJSON(w, http.StatusOK, map[string]any{"contactId": jsonID(id)})
	return nil
}

// jsonID is a contact id as the API shows it: a number when it is one.
func jsonID(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

func required(field string) error {
	return badRequest(field, "%s is required", field)
}

func tooLong(field string, n, max int) error {
	return badRequest(field, "%s is %d characters: at most %d", field, n, max)
}
