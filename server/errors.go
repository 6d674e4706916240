package server

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// An apiError is an error answer: flowd answers every bad request with one
// shape, {"code": <HTTP status>, "message": "...", "field": "..."}, as
// respond.io's API answers {code, message}.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the request field at fault, as a path: events[2].mId
}

func (e *apiError) Error() string { return e.Message }

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Code: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Field: field}
}

// writeJSON answers with a status and a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers with err's shape.
func writeError(w http.ResponseWriter, err *apiError) {
	if err.Code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowd"`)
	}
	writeJSON(w, err.Code, err)
}
