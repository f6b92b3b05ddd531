package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/httpserve"
	"github.com/notekeeper/notekeeper/store"
)

// maxRequestBytes bounds an operator request body.
const maxRequestBytes = 64 << 10

// Server serves a Service over HTTP on a unix socket (mode 0600: only the
// service's user and root can talk to it). Make it with NewServer, set the
// fields, Open, and Close.
//
// Routes (JSON unless noted):
//
//	GET  /v1/status                  status.Status
//	GET  /v1/events?since=&type=     NDJSON, one Event per line
//	GET  /v1/tasks?failed=1          []store.Task
//	POST /v1/retry   {"key"} | {"all_failed":true}
//	POST /v1/replay  ReplayRequest → ReplayResult
//	POST /v1/verify                  VerifyReport
//	GET  /v1/backup                  application/gzip, the backup
//	POST /v1/hold    {"notetaker_id","hold"}
//	GET  /v1/search, GET /v1/export, POST /v1/reindex   see search.go
type Server struct {
	Service *Service
	Path    string // the socket file
	Logger  *slog.Logger

	running *httpserve.Running
}

// NewServer returns a Server for svc on the socket at path.
func NewServer(svc *Service, path string) *Server {
	return &Server{Service: svc, Path: path, Logger: slog.New(slog.DiscardHandler)}
}

// Open listens on the socket, synchronously, and serves in the background.
// A socket file left by a process that died (kill -9) is removed, but only
// after checking that nothing answers on it; if something does, Open fails
// with ErrDaemonRunning.
func (s *Server) Open() error {
	if _, err := os.Lstat(s.Path); err == nil {
		c, err := Dial(s.Path)
		if err == nil {
			c.Close()
			return fmt.Errorf("open operator socket %s: %w", s.Path, ErrDaemonRunning)
		}
		if !errors.Is(err, ErrNoDaemon) {
			return fmt.Errorf("open operator socket: %w", err)
		}
		if err := os.Remove(s.Path); err != nil {
			return fmt.Errorf("open operator socket: remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", s.Path)
	if err != nil {
		return fmt.Errorf("open operator socket: %w", err)
	}
	if err := os.Chmod(s.Path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("open operator socket: %w", err)
	}
	// No write timeout: events, verify and backup stream for as long as
	// they need; the peer is a local operator.
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: time.Minute, ErrorLog: slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)}
	s.running = httpserve.Serve("operator socket", ln, nil, srv)
	return nil
}

// Close stops listening, waits for requests in flight until ctx ends, and
// removes the socket file.
func (s *Server) Close(ctx context.Context) error {
	if s.running == nil {
		return nil
	}
	err := s.running.Close(ctx)
	os.Remove(s.Path) // the listener removes it too; a second try is harmless
	return err
}

// routes is the socket's one route table.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /v1/events", s.handleEvents)
	mux.HandleFunc("GET /v1/tasks", s.handleTasks)
	mux.HandleFunc("POST /v1/retry", s.handleRetry)
	mux.HandleFunc("POST /v1/replay", s.handleReplay)
	mux.HandleFunc("POST /v1/verify", s.handleVerify)
	mux.HandleFunc("GET /v1/backup", s.handleBackup)
	mux.HandleFunc("POST /v1/hold", s.handleHold)
	mux.HandleFunc("POST /v1/bots", s.handleRecordBot)
	s.searchRoutes(mux) // search.go
	return mux
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.Service.Status(r.Context())
	s.respond(w, r, st, err)
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	f := EventFilter{Type: r.URL.Query().Get("type")}
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.respond(w, r, nil, apperr.Errorf(apperr.EINVALID, "since: not an RFC 3339 time"))
			return
		}
		f.Since = t
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	n := 0
	err := s.Service.Events(r.Context(), f, func(e Event) error {
		n++
		if flusher != nil && n%eventPage == 0 {
			flusher.Flush()
		}
		return enc.Encode(e)
	})
	if err != nil {
		// The status line is gone; a last line tells the client.
		s.Logger.Warn("events stream failed", slog.Any("error", err))
		enc.Encode(errorBody{Error: err.Error()})
	}
}

func (s *Server) handleTasks(w http.ResponseWriter, r *http.Request) {
	failed, _ := strconv.ParseBool(r.URL.Query().Get("failed"))
	tasks, err := s.Service.Tasks(r.Context(), failed)
	s.respond(w, r, tasks, err)
}

type retryRequest struct {
	Key       string `json:"key,omitempty"`
	AllFailed bool   `json:"all_failed,omitempty"`
}

type retryResponse struct {
	Retried int `json:"retried"`
}

func (s *Server) handleRetry(w http.ResponseWriter, r *http.Request) {
	var req retryRequest
	if err := decode(w, r, &req); err != nil {
		s.respond(w, r, nil, err)
		return
	}
	if req.AllFailed {
		n, err := s.Service.RetryAllFailed(r.Context())
		s.respond(w, r, retryResponse{Retried: n}, err)
		return
	}
	if req.Key == "" {
		s.respond(w, r, nil, apperr.Errorf(apperr.EINVALID, "key or all_failed is required"))
		return
	}
	err := s.Service.Retry(r.Context(), req.Key)
	s.respond(w, r, retryResponse{Retried: 1}, err)
}

func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	var req ReplayRequest
	if err := decode(w, r, &req); err != nil {
		s.respond(w, r, nil, err)
		return
	}
	res, err := s.Service.Replay(r.Context(), req)
	s.respond(w, r, res, err)
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Service.Verify(r.Context())
	s.respond(w, r, rep, err)
}

func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/gzip")
	if err := s.Service.Backup(r.Context(), w); err != nil {
		// Headers are sent: abort the response so the client sees a broken
		// stream, never a short file that looks whole.
		s.Logger.Error("backup over socket failed", slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
}

type holdRequest struct {
	NotetakerID string `json:"notetaker_id"`
	Hold        bool   `json:"hold"`
}

func (s *Server) handleHold(w http.ResponseWriter, r *http.Request) {
	var req holdRequest
	if err := decode(w, r, &req); err != nil {
		s.respond(w, r, nil, err)
		return
	}
	err := s.Service.Hold(r.Context(), req.NotetakerID, req.Hold)
	s.respond(w, r, req, err)
}

func (s *Server) handleRecordBot(w http.ResponseWriter, r *http.Request) {
	var bot store.Notetaker
	if err := decode(w, r, &bot); err != nil {
		s.respond(w, r, nil, err)
		return
	}
	s.respond(w, r, struct{}{}, s.Service.RecordBot(r.Context(), bot))
}

// decode reads a bounded JSON request body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apperr.Errorf(apperr.EINVALID, "request body: %v", err)
	}
	return nil
}

// respond writes v as JSON, or err as {"error"} with its status: an unknown
// thing (store.ErrNotFound) is 404. Unlike the public listener, the socket
// shows an internal error's detail: its only peers are the service's user
// and root, who need it to act.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, v any, err error) {
	status := http.StatusOK
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = apperr.Errorf(apperr.ENOTFOUND, "%v", err)
		}
		status = apperr.Status(err)
		if status >= 500 {
			s.Logger.Error("operator request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		msg := err.Error()
		if apperr.Code(err) != apperr.EINTERNAL {
			msg = apperr.Message(err)
		}
		v = errorBody{Error: msg}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// errorBody is every failed answer's body.
type errorBody struct {
	Error string `json:"error"`
}
