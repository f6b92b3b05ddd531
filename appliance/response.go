package appliance

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/notekeeper/notekeeper/appliance/apperr"
)

// Error answers r with err as JSON {"error": message}. Internal and
// unavailable errors are logged with their cause; client errors at debug.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	status := apperr.Status(err)
	attrs := []any{
		slog.Group("request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("remote", r.RemoteAddr)),
		slog.Int("status", status), slog.Any("error", err),
	}
	switch {
	case status >= 500:
		s.Logger.Error("request failed", attrs...)
	case status == http.StatusUnauthorized:
		s.Logger.Warn("request refused", attrs...)
	default:
		s.Logger.Debug("request refused", attrs...)
	}
	writeJSON(w, status, map[string]string{"error": apperr.Message(err)})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// recoverer turns a handler panic into a logged 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Error(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// jsonUnmatched makes the mux's own answers to a request no route matches
// JSON like every other error: 404 {"error":"not found"} for an unknown
// path, 405 {"error":"method not allowed"} (with the mux's Allow header) for
// a known path and another method. Requests a route matches, and the mux's
// redirects, pass untouched.
func jsonUnmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&jsonErrorWriter{ResponseWriter: w}, r)
	})
}

// jsonErrorWriter replaces a 404 or 405 plain-text answer with its JSON form.
type jsonErrorWriter struct {
	http.ResponseWriter
	replaced bool
}

func (w *jsonErrorWriter) WriteHeader(status int) {
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	msg := "not found"
	if status == http.StatusMethodNotAllowed {
		msg = "method not allowed"
		if allow := w.Header().Get("Allow"); allow != "" {
			msg += " (allowed: " + allow + ")"
		}
	}
	writeJSON(w.ResponseWriter, status, map[string]string{"error": msg})
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil // the mux's plain-text body, replaced above
	}
	return w.ResponseWriter.Write(b)
}
