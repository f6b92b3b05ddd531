package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/store"
)

// Finder is what `notekeeper search`, `export` and `reindex` do, through
// the daemon's socket (Client: the daemon holds the index's lock) or on an
// index the command opened itself (Service). An unknown Notetaker is an
// error for which errors.Is(err, store.ErrNotFound) holds.
type Finder interface {
	// Search returns the best limit meetings for q (search.Index.Search).
	Search(ctx context.Context, q string, limit int) (*search.Results, error)
	// Export streams one meeting's tar.gz to w (archive.Export).
	Export(ctx context.Context, notetakerID string, w io.Writer) error
	// Reindex settles missing meeting metadata, then rebuilds the index
	// from the archive.
	Reindex(ctx context.Context) (*ReindexResult, error)
}

var (
	_ Finder = (*Service)(nil)
	_ Finder = (*Client)(nil)
)

// ReindexResult says what a Reindex did.
type ReindexResult struct {
	Described int           `json:"described"` // meetings whose title, times and participants were settled
	Meetings  int           `json:"meetings"`  // meetings in the rebuilt index
	Took      time.Duration `json:"took_ns"`
}

// errNoIndex: the Service has no search index.
var errNoIndex = apperr.Errorf(apperr.EUNAVAILABLE, "the search index is not open")

// Search implements Finder.
func (s *Service) Search(ctx context.Context, q string, limit int) (*search.Results, error) {
	if s.Index == nil {
		return nil, errNoIndex
	}
	return s.Index.Search(ctx, q, limit, 0)
}

// exportDir is the folder of a meeting that can be exported: a known
// Notetaker with a manifest.
func (s *Service) exportDir(id string) (string, error) {
	if !archive.SafeID(id) {
		return "", fmt.Errorf("export %q: %w", id, store.ErrNotFound)
	}
	if _, err := s.DB.Notetaker(id); err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	dir, err := archive.MediaDir(s.DataDir, id)
	if err != nil {
		return "", err
	}
	if _, err := archive.ReadManifest(dir); errors.Is(err, archive.ErrNoManifest) {
		return "", fmt.Errorf("export %s: nothing archived: %w", id, store.ErrNotFound)
	} else if err != nil {
		return "", err
	}
	return dir, nil
}

// Export implements Finder. Files kept only in the [archive.s3] bucket are
// read from it (Target).
func (s *Service) Export(ctx context.Context, id string, w io.Writer) error {
	dir, err := s.exportDir(id)
	if err != nil {
		return err
	}
	var open archive.OpenFunc
	if s.Target != nil {
		open = func(ctx context.Context, name string, e archive.FileEntry) (io.ReadCloser, error) {
			if e.Object == "" {
				return nil, os.ErrNotExist
			}
			return s.Target.Open(ctx, e.Object)
		}
	}
	return archive.Export(ctx, w, dir, open)
}

// Reindex implements Finder: Backfill (when set) with no limit, then a
// full Rebuild of the index.
func (s *Service) Reindex(ctx context.Context) (*ReindexResult, error) {
	if s.Index == nil {
		return nil, errNoIndex
	}
	start := time.Now()
	res := &ReindexResult{}
	if s.Backfill != nil {
		n, err := s.Backfill(ctx, 0)
		if err != nil {
			return nil, fmt.Errorf("reindex: %w", err)
		}
		res.Described = n
	}
	st, err := s.Index.Rebuild(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	res.Meetings, res.Took = st.Meetings, time.Since(start)
	return res, nil
}

// indexUpdate tells the index, when there is one, that a meeting's folder
// changed (retention pruned it). A failure is not the caller's: the next
// start-up synchronises the index with the archive.
func (s *Service) indexUpdate(id string) {
	if s.Index == nil {
		return
	}
	if err := s.Index.Update(id); err != nil && s.Logger != nil {
		s.Logger.Warn("search index not updated", slog.String("notetaker", id), slog.Any("error", err))
	}
}

// searchRoutes adds the Finder's routes:
//
//	GET  /v1/search?q=&limit=   search.Results
//	GET  /v1/export?id=         application/gzip, the export
//	POST /v1/reindex            ReindexResult
func (s *Server) searchRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/search", s.handleSearch)
	mux.HandleFunc("GET /v1/export", s.handleExport)
	mux.HandleFunc("POST /v1/reindex", s.handleReindex)
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	res, err := s.Service.Search(r.Context(), r.URL.Query().Get("q"), limit)
	s.respond(w, r, res, err)
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if _, err := s.Service.exportDir(id); err != nil {
		s.respond(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	if err := s.Service.Export(r.Context(), id, w); err != nil {
		s.Logger.Error("export over socket failed", slog.String("notetaker", id), slog.Any("error", err))
		panic(http.ErrAbortHandler) // a broken stream, never a short file that looks whole
	}
}

func (s *Server) handleReindex(w http.ResponseWriter, r *http.Request) {
	res, err := s.Service.Reindex(r.Context())
	s.respond(w, r, res, err)
}

// Search implements Finder.
func (c *Client) Search(ctx context.Context, q string, limit int) (*search.Results, error) {
	var res search.Results
	v := url.Values{"q": {q}, "limit": {strconv.Itoa(limit)}}
	if err := c.call(ctx, "GET", "/v1/search?"+v.Encode(), nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Export implements Finder: it copies the daemon's export stream to w; a
// stream the daemon aborted is an error.
func (c *Client) Export(ctx context.Context, id string, w io.Writer) error {
	resp, err := c.do(ctx, "GET", "/v1/export?"+url.Values{"id": {id}}.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("operator socket: export: %w", err)
	}
	return nil
}

// Reindex implements Finder.
func (c *Client) Reindex(ctx context.Context) (*ReindexResult, error) {
	var res ReindexResult
	if err := c.call(ctx, "POST", "/v1/reindex", struct{}{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
