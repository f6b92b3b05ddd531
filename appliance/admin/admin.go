// Package admin is notekeeper's web UI for operators, served under /admin/:
// an overview (health, certificate, disk, webhook destination, counts, jobs),
// the meetings with their archive and delivery state, one meeting's files,
// transcript, summary, action items and notification timeline, the task
// queue with its dead letters, and the alerts.
//
// Pages are server-rendered html/template with one small stylesheet, both
// embedded. The only script is player.js, a file of a few lines the
// meeting page loads (the CSP allows script from this origin only, never
// inline) so that a transcript's timestamps seek the recording. The
// meetings list searches through the full-text index (appliance/search)
// and filters and pages on the server. Every request passes, in order:
//
//	headers   security headers on every answer (CSP, no framing, no-store, …)
//	users     no [admin] users configured: 404 for everything
//	auth      HTTP Basic against bcrypt hashes (successes cached briefly)
//	csrf      POSTs need a same-origin request and a token tied to the user
//	routes    parse → validate → one store call → render, or 303 after a POST
//
// The handler reads the store and, for two actions (Retry, legal hold),
// writes it through the store's own methods; it keeps no state of its own
// beyond the credential cache and a per-process CSRF key.
package admin

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/store"
)

// Config is what the admin UI needs. DB and Users are required; the rest are
// optional and their pages say so when missing.
type Config struct {
	DB *store.DB
	// Users maps a user name to a bcrypt hash ([admin] users). Empty: the UI
	// answers 404 to every request.
	Users map[string]string
	// Links signs the download links of archived files; without it files are
	// listed without links.
	Links *links.Signer
	// DataDir is where media/{notetaker_id}/ lives (transcripts, summaries).
	DataDir string
	// Status gathers the overview ((*Main).Status in the daemon).
	Status func(ctx context.Context) (*status.Status, error)
	// AtRisk marks a meeting whose media is not fully archived this close
	// to Nylas' deadline ([archive] at_risk); default 72 hours.
	AtRisk time.Duration
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
	// Search is the meetings' full-text index; nil disables the search box.
	Search *search.Index
	// Target is the [archive.s3] bucket, when set: Export reads the files
	// that are only there from it.
	Target archive.Target
	// CacheTTL is how long a verified user/password pair is remembered, so
	// that each page load does not cost a bcrypt comparison; default 1 minute.
	CacheTTL time.Duration
}

// Handler serves the admin UI. Build it with New; it is safe for concurrent
// use. It answers every path under /admin/ (mount it at "/admin/").
type Handler struct {
	cfg     Config
	auth    *authenticator
	csrfKey []byte // per process: forms from before a restart need a reload
	pages   *pages
	next    http.Handler
}

// New returns the admin UI for cfg. It fails when a user's hash is not
// bcrypt; it computes no hash itself, so start-up stays fast.
func New(cfg Config) (*Handler, error) {
	if cfg.DB == nil {
		return nil, fmt.Errorf("admin: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AtRisk == 0 {
		cfg.AtRisk = 72 * time.Hour
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Minute
	}
	auth, err := newAuthenticator(cfg.Users, cfg.CacheTTL, cfg.Now)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, auth: auth, csrfKey: make([]byte, 32), pages: pages}
	rand.Read(h.csrfKey)
	h.next = securityHeaders(h.requireUsers(h.authenticate(h.checkCSRF(h.routes()))))
	return h, nil
}

// Protect wraps next in the UI's security headers and basic auth (404 with
// no users configured, 401 without valid credentials): the public
// listener's /metrics, which needs an admin user's credentials. POSTs to next are not CSRF-checked.
func (h *Handler) Protect(next http.Handler) http.Handler {
	return securityHeaders(h.requireUsers(h.authenticate(next)))
}

// ServeHTTP answers one request under /admin/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

// routes is the UI's one route table.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"GET /admin/{$}", h.handleOverview},
		{"GET /admin/meetings", h.handleMeetings},
		{"GET /admin/meetings/{id}", h.handleMeeting},
		{"POST /admin/meetings/{id}/hold", h.handleHold},
		{"GET /admin/meetings/{id}/export", h.handleExport},
		{"GET /admin/deliveries", h.handleDeliveries},
		{"POST /admin/deliveries/retry", h.handleRetry},
		{"GET /admin/alerts", h.handleAlerts},
		{"GET /admin/admin.css", h.handleCSS},
		{"GET /admin/player.js", h.handlePlayerJS},
		{"/admin/", h.handleNotFound},
	} {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	return mux
}
