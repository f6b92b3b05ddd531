package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/store"
)

// pageSize is how many meetings one page of the list shows.
const pageSize = 50

// Delivery states a meeting can be filtered by.
var deliveryFilters = []choice{
	{"", "any delivery"}, {"delivered", "delivered"}, {"pending", "not delivered yet"},
	{"failed", "failed (dead letter)"}, {"none", "nothing to deliver"},
}

// listFilter is the meetings list's query string.
type listFilter struct {
	Q        string // search words (the index)
	State    string // a botKind
	Delivery string // a deliveryKind
	From, To string // YYYY-MM-DD, inclusive, by the meeting's start
	Hold     bool   // only meetings on legal hold
	Page     int    // 1-based
}

func parseFilter(r *http.Request) listFilter {
	q := r.URL.Query()
	f := listFilter{Q: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Delivery: q.Get("delivery"),
		From: q.Get("from"), To: q.Get("to"), Hold: q.Get("hold") == "on", Page: 1}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 && p < 1_000_000 {
		f.Page = p
	}
	return f
}

// query is f as a query string, at page.
func (f listFilter) query(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "state": f.State, "delivery": f.Delivery, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Hold {
		v.Set("hold", "on")
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// day parses a YYYY-MM-DD filter bound; ok false when empty or invalid.
func day(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// deliveryKind classifies a delivery state for the filter.
func deliveryKind(s state) string {
	switch {
	case s.Label == "dead letter":
		return "failed"
	case s.Class == "ok":
		return "delivered"
	case s == nothingToDeliver || s.Label == "nothing to send" || s.Label == "—":
		return "none"
	}
	return "pending"
}

// keep reports whether m passes the filters other than the search words.
func (f listFilter) keep(m *meeting) bool {
	if f.State != "" && botKind(&m.Notetaker) != f.State {
		return false
	}
	if f.Delivery != "" && deliveryKind(m.Delivery) != f.Delivery {
		return false
	}
	if f.Hold && !m.Hold {
		return false
	}
	t := m.sortTime().UTC()
	if from, ok := day(f.From); ok && t.Before(from) {
		return false
	}
	if to, ok := day(f.To); ok && !t.Before(to.AddDate(0, 0, 1)) {
		return false
	}
	return true
}

// listView is the meetings page.
type listView struct {
	Filter      listFilter
	Rows        []row
	Total       int // meetings that pass the filters
	Page, Pages int
	Prev, Next  string // links to the neighbouring pages, "" at the ends
	States      []choice
	Deliveries  []choice
	SearchOff   bool // no index: the search box is disabled
	Partial     bool // the index is still being rebuilt
	Filtered    bool // any filter or search is set
	SearchError string
}

// row is one meeting of the list, with its search hit when searching.
type row struct {
	*meeting
	Hit    *search.Hit
	Link   string // the meeting page (with the search hit to highlight)
	People string // the first few participants' names
}

// meetingList builds one page of the list for f. With search words, the
// index's hits, best first, filtered; otherwise the meetings newest first
// (by when the bot was first seen: the store's notetakers_by_first_seen
// index), read a page of the index at a time so that memory stays bounded
// whatever the history. Without filters only the meetings of the page are
// decoded and the total is the store's counter; with filters every meeting
// is looked at once, one index page at a time.
func (h *Handler) meetingList(r *http.Request, f listFilter) (*listView, error) {
	v := &listView{Filter: f, Page: max(f.Page, 1), States: botFilters, Deliveries: deliveryFilters, SearchOff: h.cfg.Search == nil,
		Filtered: f.query(1) != ""}
	ix, err := h.loadIndex()
	if err != nil {
		return nil, err
	}
	first := (v.Page - 1) * pageSize // index of the page's first row among the matches
	var rows []row
	if f.Q != "" && h.cfg.Search != nil {
		res, err := h.cfg.Search.Search(r.Context(), f.Q, search.MaxLimit, 0)
		if err != nil {
			v.SearchError = "search failed: " + err.Error()
			h.cfg.Logger.Error("admin search failed", "error", err)
		} else {
			v.Partial = res.Partial
			for i := range res.Hits {
				hit := &res.Hits[i]
				nt, err := h.cfg.DB.Notetaker(hit.NotetakerID)
				if errors.Is(err, store.ErrNotFound) {
					continue
				} else if err != nil {
					return nil, err
				}
				m, err := h.meeting(nt, ix)
				if err != nil {
					return nil, err
				}
				if f.keep(m) {
					if v.Total >= first && v.Total < first+pageSize {
						rows = append(rows, row{meeting: m, Hit: hit})
					}
					v.Total++
				}
			}
		}
	} else {
		filtered := v.Filtered
		if !filtered {
			counts, err := h.cfg.DB.Counts()
			if err != nil {
				return nil, err
			}
			v.Total = counts.Notetakers
		}
		seen := 0
		err := h.eachNewest(func(nt *store.Notetaker) (bool, error) {
			if !filtered && seen < first {
				seen++ // before the page: not decoded further
				return true, nil
			}
			m, err := h.meeting(nt, ix)
			if err != nil {
				return false, err
			}
			if filtered && !f.keep(m) {
				return true, nil
			}
			if seen >= first && seen < first+pageSize {
				rows = append(rows, row{meeting: m})
			}
			seen++
			return filtered || seen < first+pageSize, nil
		})
		if err != nil {
			return nil, err
		}
		if filtered {
			v.Total = seen
		}
	}
	v.Pages = max(1, (v.Total+pageSize-1)/pageSize)
	if v.Page > v.Pages {
		// Past the end: the last page (one more walk, for a stale link).
		f.Page = v.Pages
		return h.meetingList(r, f)
	}
	v.Rows = rows
	for i := range v.Rows {
		rw := &v.Rows[i]
		rw.Link = "/admin/meetings/" + url.PathEscape(rw.ID)
		if rw.Hit != nil {
			q := url.Values{"q": {f.Q}}
			if rw.Hit.Line > 0 {
				q.Set("line", strconv.Itoa(rw.Hit.Line))
				rw.Link += "?" + q.Encode() + "#line-" + strconv.Itoa(rw.Hit.Line)
			} else {
				rw.Link += "?" + q.Encode()
			}
		}
		ns := names(rw.Participants)
		if len(ns) > 4 {
			ns = append(ns[:3], "+"+strconv.Itoa(len(ns)-3)+" more")
		}
		rw.People = strings.Join(ns, ", ")
	}
	if v.Page > 1 {
		v.Prev = "/admin/meetings" + f.query(v.Page-1)
	}
	if v.Page < v.Pages {
		v.Next = "/admin/meetings" + f.query(v.Page+1)
	}
	return v, nil
}

// eachNewest calls fn with every Notetaker, newest first, until fn says
// stop, reading the store a page of its index at a time (each page its own
// short read transaction; fn runs outside it).
func (h *Handler) eachNewest(fn func(*store.Notetaker) (bool, error)) error {
	cursor := ""
	for {
		nts, next, err := h.cfg.DB.RecentNotetakers(cursor, 256)
		if err != nil {
			return err
		}
		for _, nt := range nts {
			if more, err := fn(nt); err != nil || !more {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
