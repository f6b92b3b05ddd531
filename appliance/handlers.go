package appliance

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/status"
)

// handleChallenge answers Nylas' endpoint verification: the challenge value,
// verbatim, as text/plain. No signature is needed (Nylas does not sign it).
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	c, err := challenge(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeText(w, http.StatusOK, c)
}

// handleWebhook stores one notification; see Receiver.Receive.
func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	receipt, err := s.Receiver.Receive(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, receipt)
}

// handleHealthz answers 200 while the process runs.
func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// handleMetrics serves the Prometheus metrics, when configured.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		http.NotFound(w, r)
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

// handleFile serves an archived file to the holder of a signed link (no
// other authentication: links.Signer), with Range support. A bad or expired signature is 403; a good link to
// a file that is not (or no longer) archived is 404.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	id, name := r.PathValue("notetaker_id"), r.PathValue("name")
	q := r.URL.Query()
	if s.Links == nil {
		s.Error(w, r, apperr.Errorf(apperr.EFORBIDDEN, "invalid or expired link"))
		return
	}
	if err := s.Links.Check(id, name, q.Get("exp"), q.Get("sig")); err != nil {
		s.Error(w, r, err)
		return
	}
	f, e, err := openArchived(s.DataDir, id, name)
	if errors.Is(err, errInObjectStore) {
		s.redirectToObject(w, r, name, e)
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	defer f.Close()
	ct := e.ContentType
	fi, err := f.Stat()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(name))
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// readyTimeout bounds all readiness checks together.
const readyTimeout = 5 * time.Second

// handleReadyz runs every Check: 200 "ok" when all pass, else 503 with one
// "name: reason" line per failing check.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var failed []string
	for _, r := range s.RunChecks(ctx) {
		if !r.OK {
			failed = append(failed, r.Name+": "+r.Error)
		}
	}
	if len(failed) > 0 {
		writeText(w, http.StatusServiceUnavailable, strings.Join(failed, "\n")+"\n")
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

// RunChecks runs every Check, in order, and returns each one's result (for
// /readyz and the daemon's status).
func (s *Server) RunChecks(ctx context.Context) []status.CheckResult {
	out := make([]status.CheckResult, len(s.Checks))
	for i, c := range s.Checks {
		out[i] = status.CheckResult{Name: c.Name, OK: true}
		if err := c.Fn(ctx); err != nil {
			out[i].OK, out[i].Error = false, err.Error()
		}
	}
	return out
}

// writeText writes a text/plain response with an exact Content-Length.
func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// presignTTL is how long the presigned URL a /files link redirects to
// lives: long enough to start a download (Range requests then go to the
// bucket directly), short enough not to matter if it leaks.
const presignTTL = 15 * time.Minute

// redirectToObject answers a /files link to a file kept only in the bucket
// with a 307 to a presigned GET of its object.
func (s *Server) redirectToObject(w http.ResponseWriter, r *http.Request, name string, e archive.FileEntry) {
	if s.Target == nil {
		s.Error(w, r, apperr.Errorf(apperr.ENOTFOUND, "no such archived file"))
		return
	}
	u, err := s.Target.PresignGet(r.Context(), e.Object, name, e.ContentType, presignTTL)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
}

// errInObjectStore: the file is archived, but only as an object in the
// bucket (its manifest entry names it); see redirectToObject.
var errInObjectStore = errors.New("archived in object storage")

// openArchived opens a file of the archive by its final name, only when the
// meeting's manifest lists it (or it is the transcript.txt rendered beside
// it), so a link can reach nothing else: not a partial, not the manifest,
// nothing outside the meeting's folder. A listed file whose local copy is
// gone but that has an object returns its entry and errInObjectStore.
func openArchived(dataDir, id, name string) (*os.File, archive.FileEntry, error) {
	notFound := apperr.Errorf(apperr.ENOTFOUND, "no such archived file")
	dir, err := archive.MediaDir(dataDir, id)
	if err != nil || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return nil, archive.FileEntry{}, notFound
	}
	e := archive.FileEntry{ContentType: "text/plain; charset=utf-8"}
	if name != "transcript.txt" {
		man, err := archive.ReadManifest(dir)
		if errors.Is(err, archive.ErrNoManifest) {
			return nil, e, notFound
		} else if err != nil {
			return nil, e, err
		}
		var ok bool
		if e, ok = man.Files[name]; !ok {
			return nil, e, notFound
		}
	}
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		if e.Object != "" {
			return nil, e, errInObjectStore
		}
		return nil, e, notFound
	}
	return f, e, err
}

// handleAdmin hands /admin/ to the admin UI, when there is one.
func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	if s.Admin == nil {
		s.Error(w, r, apperr.Errorf(apperr.ENOTFOUND, "no admin UI"))
		return
	}
	s.Admin.ServeHTTP(w, r)
}
