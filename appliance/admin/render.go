package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed admin.css
var stylesheet []byte

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"overview", "meetings", "meeting", "deliveries", "alerts", "error"}

// pages holds one parsed template set per page.
type pages struct {
	byName map[string]*template.Template
}

func parsePages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse admin layout: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse admin page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Title string
	Page  string // for the navigation
	User  string
	CSRF  string // the form token of User
	Now   time.Time
	Data  any
}

// render answers 200 with page name.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	h.renderStatus(w, r, http.StatusOK, name, title, data)
}

// renderStatus renders into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (h *Handler) renderStatus(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	user := userOf(r.Context())
	v := view{Title: title, Page: name, User: user, CSRF: h.csrfToken(user), Now: h.cfg.Now(), Data: data}
	var buf bytes.Buffer
	if err := h.pages.byName[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.cfg.Logger.Error("admin template failed", "page", name, "error", err)
		textError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

var funcs = template.FuncMap{
	"when":  when,
	"day":   func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006") },
	"clock": func(t time.Time) string { return t.UTC().Format("15:04") },
	"ago":   ago,
	"bytes": datadir.FormatBytes,
	"short": func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n]) + "…"
		}
		return s
	},
}

// when is a time in UTC to the minute, "—" when zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ago is how long before now t was: "5m ago", "in 3h 2m".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if d := now.Sub(t); d >= 0 && d < time.Minute {
		return "just now"
	} else if d >= 0 {
		return shortDuration(d) + " ago"
	}
	return "in " + shortDuration(t.Sub(now))
}
