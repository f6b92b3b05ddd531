package nylas

import "time"

// When is an event's time as the Events API gives it: a "timespan"
// (start_time/end_time, Unix seconds), a "date" (all day, date) or a
// "datespan" (start_date/end_date), dates as YYYY-MM-DD. Unknown fields
// are ignored. See
// https://developer.nylas.com/docs/api/v3/ecc/#tag/events (the "when" object).
type When struct {
	Object    string `json:"object"`
	StartTime int64  `json:"start_time"`
	EndTime   int64  `json:"end_time"`
	Date      string `json:"date"`
	StartDate string `json:"start_date"`
	EndDate   string `json:"end_date"`
}

// Span returns the start and end of w in UTC; zero times for what w does
// not say. An all-day date runs from its midnight (UTC) to the next; a
// datespan to the midnight after its end date.
func (w When) Span() (start, end time.Time) {
	day := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	switch {
	case w.StartTime > 0:
		start = time.Unix(w.StartTime, 0).UTC()
		if w.EndTime > 0 {
			end = time.Unix(w.EndTime, 0).UTC()
		}
	case w.Date != "":
		if start = day(w.Date); !start.IsZero() {
			end = start.AddDate(0, 0, 1)
		}
	case w.StartDate != "":
		start = day(w.StartDate)
		if e := day(w.EndDate); !e.IsZero() {
			end = e.AddDate(0, 0, 1)
		}
	}
	return start, end
}
