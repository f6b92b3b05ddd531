package admin

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/store"
)

// maxAlerts bounds the alerts page (newest first).
const maxAlerts = 500

// maxTaskKeyLen bounds a task key taken from a form: a kind, '/', and a
// subject of at most 256 bytes.
const maxTaskKeyLen = 320

func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request) {
	st, err := h.status(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "overview", "Overview", st)
}

// status is the overview's Status: from Config.Status, else (no daemon
// wiring) only the store's counts.
func (h *Handler) status(r *http.Request) (*status.Status, error) {
	if h.cfg.Status != nil {
		return h.cfg.Status(r.Context())
	}
	counts, err := h.cfg.DB.Counts()
	return &status.Status{Counts: counts, Ready: true}, err
}

func (h *Handler) handleMeetings(w http.ResponseWriter, r *http.Request) {
	v, err := h.meetingList(r, parseFilter(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "meetings", "Meetings", v)
}

func (h *Handler) handleMeeting(w http.ResponseWriter, r *http.Request) {
	nt, err := h.lookupMeeting(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.meetingDetail(nt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.player(d, r)
	h.render(w, r, "meeting", cmp.Or(d.Title, "Meeting "+nt.ID), d)
}

// handleHold sets (hold=on) or clears (anything else) a meeting's legal
// hold, then goes back to the meeting.
func (h *Handler) handleHold(w http.ResponseWriter, r *http.Request) {
	nt, err := h.lookupMeeting(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hold := r.PostForm.Get("hold") == "on"
	if _, err := h.cfg.DB.UpdateNotetaker(nt.ID, func(n *store.Notetaker) error { n.Hold = hold; return nil }); err != nil {
		h.fail(w, r, err)
		return
	}
	h.cfg.Logger.Info("legal hold changed", slog.String("notetaker", nt.ID), slog.Bool("hold", hold), slog.String("user", userOf(r.Context())))
	http.Redirect(w, r, "/admin/meetings/"+url.PathEscape(nt.ID), http.StatusSeeOther)
}

// taskRow is one task on the deliveries page.
type taskRow struct {
	*store.Task
	State   state
	Meeting string // the Notetaker the task is about, when it has a page
}

func (h *Handler) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	tasks, err := h.cfg.DB.Tasks()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.cfg.Now()
	rows := make([]taskRow, 0, len(tasks))
	for _, t := range tasks {
		row := taskRow{Task: t}
		switch {
		case t.Dead:
			row.State = state{Label: "dead letter", Class: "bad"}
		case t.Leased(now):
			row.State = state{Label: "running", Class: "warn"}
		case t.NextRun.After(now):
			row.State = state{Label: "waiting " + shortDuration(t.NextRun.Sub(now)), Class: "warn"}
		default:
			row.State = state{Label: "due", Class: "warn"}
		}
		switch t.Kind {
		case store.TaskNotetaker, store.TaskCRM, store.TaskATSRecording:
			if _, err := h.lookupMeeting(t.Subject); err == nil {
				row.Meeting = t.Subject
			}
		}
		rows = append(rows, row)
	}
	// Dead letters first: they are what an operator came for.
	slices.SortStableFunc(rows, func(a, b taskRow) int {
		if a.Dead != b.Dead {
			if a.Dead {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Key(), b.Key())
	})
	ds, err := h.cfg.DB.ATSDeliveries()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := deliveriesPage{Tasks: rows}
	for _, d := range ds {
		if d.Unmatched {
			page.Unmatched = append(page.Unmatched, d)
		}
	}
	h.render(w, r, "deliveries", "Deliveries", page)
}

// deliveriesPage is the deliveries page: the queue, and the bookings whose
// candidate the ATS does not know (nothing was created for them).
type deliveriesPage struct {
	Tasks     []taskRow
	Unmatched []*store.ATSDelivery
}

// handleRetry makes the task named by the form's key runnable now (a dead
// letter comes back with a fresh attempt count), then goes back to the
// deliveries.
func (h *Handler) handleRetry(w http.ResponseWriter, r *http.Request) {
	key := r.PostForm.Get("key")
	if len(key) > maxTaskKeyLen || !strings.Contains(key, "/") || strings.ContainsFunc(key, unicode.IsControl) {
		h.fail(w, r, apperr.Errorf(apperr.ENOTFOUND, "no such task"))
		return
	}
	err := h.cfg.DB.Retry(key)
	if errors.Is(err, store.ErrNotFound) {
		err = apperr.Errorf(apperr.ENOTFOUND, "no such task")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.cfg.Logger.Info("task retried", slog.String("task", key), slog.String("user", userOf(r.Context())))
	http.Redirect(w, r, "/admin/deliveries", http.StatusSeeOther)
}

func (h *Handler) handleAlerts(w http.ResponseWriter, r *http.Request) {
	alerts, err := h.cfg.DB.RecentAlerts(maxAlerts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "alerts", "Alerts", alerts)
}

func (h *Handler) handleCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(stylesheet)
}

func (h *Handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, apperr.Errorf(apperr.ENOTFOUND, "no such page"))
}

// fail answers with err's status and client-safe message on an error page;
// failures of ours are logged with detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := apperr.Status(err)
	if status >= 500 {
		h.cfg.Logger.Error("admin request failed", slog.Group("request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path)), slog.Any("error", err))
	}
	h.renderStatus(w, r, status, "error", http.StatusText(status), apperr.Message(err))
}
