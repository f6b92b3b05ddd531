package nylas_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

func TestGetNotetaker(t *testing.T) {
	cases := []struct {
		name, grant, id, wantPath string
	}{
		{name: "under a grant", grant: "grant-a1b2c3", id: "nt7Hq2LmZ", wantPath: "/v3/grants/grant-a1b2c3/notetakers/nt7Hq2LmZ"},
		{name: "standalone", grant: "", id: "nt7Hq2LmZ", wantPath: "/v3/notetakers/nt7Hq2LmZ"},
		{name: "grant given as an e-mail address", grant: "sarah@your-company.example", id: "nt7Hq2LmZ",
			wantPath: "/v3/grants/sarah@your-company.example/notetakers/nt7Hq2LmZ"},
		{name: "segments escaped", grant: "g/1", id: "nt 7?x", wantPath: "/v3/grants/g%2F1/notetakers/nt%207%3Fx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(notetakerJSON(t)))
			c, _ := f.client()
			n, err := c.GetNotetaker(context.Background(), tc.grant, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "GET" || r.EscapedPath != tc.wantPath || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want GET %s", r.Method, r.EscapedPath, r.RawQuery, tc.wantPath)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+apiKey {
				t.Errorf("Authorization %q", got)
			}
			if n.ID != "nt7Hq2LmZ" || n.GrantID != "grant-a1b2c3" || n.CurrentState() != "scheduled" ||
				n.MeetingProvider != "Google Meet" || n.MeetingLink != "https://meet.google.com/abc-defg-hij" ||
				n.JoinTime != 1737500936 || n.Event.EventID != "7kq2c1vdd0l3o9n3h2" || n.Event.ICalUID != "7kq2c1@google.com" ||
				n.Event.MasterEventID != "7kq2c1vdd0l3o9n3h2" || !n.MeetingSettings.Transcription ||
				n.MeetingSettings.LeaveAfterSilenceSeconds != 300 {
				t.Errorf("decoded %+v", n)
			}
		})
	}
}

func TestGetNotetakerTopLevelEventID(t *testing.T) {
	cases := []struct {
		name, data, wantEventID string
	}{
		{name: "event object wins", data: `{"id":"n1","event_id":"top","event":{"event_id":"nested"}}`, wantEventID: "nested"},
		{name: "top-level event_id fills a missing event", data: `{"id":"n1","event_id":"top","calendar_id":"primary"}`, wantEventID: "top"},
		{name: "neither", data: `{"id":"n1"}`, wantEventID: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(tc.data))
			c, _ := f.client()
			n, err := c.GetNotetaker(context.Background(), "", "n1")
			if err != nil {
				t.Fatal(err)
			}
			if n.Event.EventID != tc.wantEventID || n.ID != "n1" {
				t.Errorf("event id %q (id %q), want %q", n.Event.EventID, n.ID, tc.wantEventID)
			}
		})
	}
}

func TestGetNotetakerErrors(t *testing.T) {
	cases := []struct {
		name, grant, id string
		script          []answer
		wantNotFound    bool
	}{
		{name: "404 is ErrNotFound", grant: "g", id: "gone",
			script: []answer{apiError(404, "not_found_error", "Notetaker not found")}, wantNotFound: true},
		{name: "200 without data", grant: "g", id: "n1", script: []answer{{status: 200, body: `{"request_id":"r"}`}}},
		{name: "200 with null data", grant: "g", id: "n1", script: []answer{{status: 200, body: `{"request_id":"r","data":null}`}}},
		{name: "200 that is not JSON", grant: "g", id: "n1", script: []answer{{status: 200, body: `<html>`}}},
		{name: "empty id sends nothing", grant: "g", id: ""},
		{name: "dot-dot id sends nothing", grant: "", id: ".."},
		{name: "dot grant sends nothing", grant: ".", id: "n1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			c, _ := f.client()
			n, err := c.GetNotetaker(context.Background(), tc.grant, tc.id)
			if err == nil {
				t.Fatalf("got %+v, want an error", n)
			}
			if errors.Is(err, nylas.ErrNotFound) != tc.wantNotFound {
				t.Errorf("error %v: ErrNotFound match is %v", err, !tc.wantNotFound)
			}
			if got := len(f.requests()); got != len(tc.script) {
				t.Errorf("%d requests, want %d", got, len(tc.script))
			}
			if !strings.HasPrefix(err.Error(), "get notetaker") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestCurrentState(t *testing.T) {
	cases := []struct {
		name          string
		state, status string
		want          string
	}{
		{name: "state", state: "attending", status: "attending", want: "attending"},
		{name: "state preferred", state: "media_available", status: "available", want: "media_available"},
		{name: "status fallback", status: "failed_entry", want: "failed_entry"},
		{name: "neither", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := nylas.Notetaker{State: tc.state, Status: tc.status}
			if got := n.CurrentState(); got != tc.want {
				t.Errorf("CurrentState() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGetMedia(t *testing.T) {
	cases := []struct{ name, grant, wantPath string }{
		{name: "under a grant", grant: "grant-a1b2c3", wantPath: "/v3/grants/grant-a1b2c3/notetakers/nt7Hq2LmZ/media"},
		{name: "standalone", grant: "", wantPath: "/v3/notetakers/nt7Hq2LmZ/media"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, answer{status: 200, body: fixture(t, "media-endpoint-response.json")})
			c, _ := f.client()
			m, err := c.GetMedia(context.Background(), tc.grant, "nt7Hq2LmZ")
			if err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "GET" || r.EscapedPath != tc.wantPath {
				t.Errorf("request %s %s, want GET %s", r.Method, r.EscapedPath, tc.wantPath)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+apiKey {
				t.Errorf("Authorization %q", got)
			}
			wantRec := nylas.MediaFile{
				URL:  "https://storage.example.com/nt7Hq2LmZ/meeting_recording.mp4?X-Goog-Signature=fresh",
				Name: "meeting_recording.mp4", Type: "video/mp4", Size: 52428800,
				CreatedAt: 1737504000, ExpiresAt: 1738713600, TTL: 3600, Duration: 1800,
			}
			if m.Recording == nil || *m.Recording != wantRec {
				t.Errorf("recording %+v, want %+v", m.Recording, wantRec)
			}
			for _, k := range []struct{ kind, name, typ string }{
				{"recording", "meeting_recording.mp4", "video/mp4"},
				{"transcript", "transcript.json", "application/json"},
				{"summary", "meeting_summary.json", "application/json"},
				{"action_items", "meeting_action_items.json", "application/json"},
				{"thumbnail", "thumbnail.png", "image/png"},
			} {
				f := m.File(k.kind)
				if f == nil || f.Name != k.name || f.Type != k.typ || f.TTL != 3600 || !strings.HasSuffix(f.URL, "/"+k.name+"?X-Goog-Signature=fresh") {
					t.Errorf("File(%q) = %+v", k.kind, f)
				}
			}
			if m.File("video") != nil {
				t.Error("File of an unknown kind is not nil")
			}
		})
	}
}

func TestGetMediaPartialAndTolerant(t *testing.T) {
	cases := []struct {
		name      string
		data      string
		wantKinds []string
		wantRec   nylas.MediaFile
	}{
		{name: "recording only, numbers as strings",
			data:      `{"recording":{"url":"https://s/r.mp3","type":"audio/mpeg","size":"10","duration":"1800","ttl":3600.0,"expires_at":null}}`,
			wantKinds: []string{"recording"},
			wantRec:   nylas.MediaFile{URL: "https://s/r.mp3", Type: "audio/mpeg", Size: 10, Duration: 1800, TTL: 3600}},
		{name: "empty object", data: `{}`},
		{name: "null data", data: `null`},
		{name: "explicit nulls", data: `{"recording":null,"transcript":null}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(tc.data))
			c, _ := f.client()
			m, err := c.GetMedia(context.Background(), "g", "n1")
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, k := range []string{"recording", "transcript", "summary", "action_items", "thumbnail"} {
				if m.File(k) != nil {
					kinds = append(kinds, k)
				}
			}
			if !reflect.DeepEqual(kinds, tc.wantKinds) {
				t.Errorf("kinds %v, want %v", kinds, tc.wantKinds)
			}
			if m.Recording != nil && *m.Recording != tc.wantRec {
				t.Errorf("recording %+v, want %+v", *m.Recording, tc.wantRec)
			}
		})
	}
}

func TestListQueryParameters(t *testing.T) {
	cases := []struct {
		name      string
		grant     string
		q         nylas.ListQuery
		wantPath  string
		wantQuery string // url.Values.Encode order: sorted by key
	}{
		{name: "zero query sends nothing", grant: "g1", wantPath: "/v3/grants/g1/notetakers", wantQuery: ""},
		{name: "limit above 200 is clamped", grant: "g1", q: nylas.ListQuery{Limit: 500},
			wantPath: "/v3/grants/g1/notetakers", wantQuery: "limit=200"},
		{name: "limit 200 kept", grant: "g1", q: nylas.ListQuery{Limit: 200}, wantPath: "/v3/grants/g1/notetakers", wantQuery: "limit=200"},
		{name: "negative limit omitted", grant: "g1", q: nylas.ListQuery{Limit: -1}, wantPath: "/v3/grants/g1/notetakers", wantQuery: ""},
		{name: "every filter", grant: "g1",
			q:         nylas.ListQuery{Limit: 50, PageToken: "tok/+=", State: "media_available", JoinTimeStart: 1737400000, JoinTimeEnd: 1737500000},
			wantPath:  "/v3/grants/g1/notetakers",
			wantQuery: "join_time_end=1737500000&join_time_start=1737400000&limit=50&page_token=tok%2F%2B%3D&state=media_available"},
		{name: "standalone list", grant: "", q: nylas.ListQuery{State: "scheduled"}, wantPath: "/v3/notetakers", wantQuery: "state=scheduled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, answer{status: 200, body: `{"request_id":"r","data":[{"id":"a"}],"next_cursor":"c1"}`})
			c, _ := f.client()
			items, next, err := c.ListNotetakers(context.Background(), tc.grant, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].ID != "a" || next != "c1" {
				t.Errorf("items %+v next %q", items, next)
			}
			r := f.requests()[0]
			if r.EscapedPath != tc.wantPath || r.RawQuery != tc.wantQuery {
				t.Errorf("request %s?%s, want %s?%s", r.EscapedPath, r.RawQuery, tc.wantPath, tc.wantQuery)
			}
		})
	}
}

// page is one page of a Notetaker list.
func page(next string, ids ...string) answer {
	var items []string
	for _, id := range ids {
		items = append(items, fmt.Sprintf(`{"id":%q,"state":"media_available"}`, id))
	}
	return answer{status: 200, body: fmt.Sprintf(`{"request_id":"r","data":[%s],"next_cursor":%q,"prev_cursor":"p"}`, strings.Join(items, ","), next)}
}

func TestEachNotetaker(t *testing.T) {
	stop := errors.New("stop here")
	cases := []struct {
		name       string
		q          nylas.ListQuery
		script     []answer
		failOn     string // fn returns stop for this ID
		wantIDs    []string
		wantTokens []string // page_token of each request
		wantErr    func(error) bool
	}{
		{name: "three pages", q: nylas.ListQuery{Limit: 2, State: "media_available", JoinTimeStart: 100, JoinTimeEnd: 200},
			script:  []answer{page("c1", "a", "b"), page("c2", "c", "d"), page("", "e")},
			wantIDs: []string{"a", "b", "c", "d", "e"}, wantTokens: []string{"", "c1", "c2"}},
		{name: "starts from the given token", q: nylas.ListQuery{PageToken: "c5"},
			script: []answer{page("", "x")}, wantIDs: []string{"x"}, wantTokens: []string{"c5"}},
		{name: "empty page with a cursor goes on", script: []answer{page("c1"), page("", "a")},
			wantIDs: []string{"a"}, wantTokens: []string{"", "c1"}},
		{name: "fn error stops at once", script: []answer{page("c1", "a", "b", "c")}, failOn: "b",
			wantIDs: []string{"a", "b"}, wantTokens: []string{""}, wantErr: func(err error) bool { return err == stop }},
		{name: "repeated cursor is an error", script: []answer{page("loop", "a"), page("loop", "b")},
			wantIDs: []string{"a", "b"}, wantTokens: []string{"", "loop"},
			wantErr: func(err error) bool { return err != nil && strings.Contains(err.Error(), "repeated a page cursor") }},
		{name: "cursor back to the start token is an error", q: nylas.ListQuery{PageToken: "s"},
			script: []answer{page("s", "a")}, wantIDs: []string{"a"}, wantTokens: []string{"s"},
			wantErr: func(err error) bool { return err != nil && strings.Contains(err.Error(), "repeated a page cursor") }},
		{name: "API error ends the walk", script: []answer{page("c1", "a"), apiError(400, "invalid_request_error", "bad token")},
			wantIDs: []string{"a"}, wantTokens: []string{"", "c1"},
			wantErr: func(err error) bool { var e *nylas.Error; return errors.As(err, &e) && e.Status == 400 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			c, _ := f.client()
			var ids []string
			err := c.EachNotetaker(context.Background(), "g1", tc.q, func(n *nylas.Notetaker) error {
				ids = append(ids, n.ID)
				if n.ID == tc.failOn {
					return stop
				}
				return nil
			})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !tc.wantErr(err) {
				t.Errorf("error %v", err)
			}
			if !reflect.DeepEqual(ids, tc.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tc.wantIDs)
			}
			var tokens []string
			for _, r := range f.requests() {
				tokens = append(tokens, r.Query.Get("page_token"))
				if r.EscapedPath != "/v3/grants/g1/notetakers" || r.Query.Get("state") != tc.q.State {
					t.Errorf("request %s?%s", r.EscapedPath, r.RawQuery)
				}
				if tc.q.Limit > 0 && r.Query.Get("limit") != fmt.Sprint(tc.q.Limit) ||
					tc.q.JoinTimeStart > 0 && r.Query.Get("join_time_start") != fmt.Sprint(tc.q.JoinTimeStart) ||
					tc.q.JoinTimeEnd > 0 && r.Query.Get("join_time_end") != fmt.Sprint(tc.q.JoinTimeEnd) {
					t.Errorf("filters lost on a later page: %s", r.RawQuery)
				}
			}
			if !reflect.DeepEqual(tokens, tc.wantTokens) {
				t.Errorf("page tokens %q, want %q", tokens, tc.wantTokens)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	cases := []struct {
		name, grant, data, wantPath string
		want                        []nylas.HistoryEvent
	}{
		{name: "events under data", grant: "g1",
			data: `{"events":[{"created_at":1700000300,"event_type":"notetaker.media","data":{"id":"n1","state":"media_available"}},` +
				`{"created_at":1700000000,"event_type":"notetaker.created","data":{"id":"n1"}}]}`,
			wantPath: "/v3/grants/g1/notetakers/n1/history",
			want: []nylas.HistoryEvent{
				{CreatedAt: 1700000300, EventType: "notetaker.media", Data: []byte(`{"id":"n1","state":"media_available"}`)},
				{CreatedAt: 1700000000, EventType: "notetaker.created", Data: []byte(`{"id":"n1"}`)},
			}},
		{name: "standalone, bare list, string time, type field", grant: "",
			data:     `[{"created_at":"1700000000","type":"notetaker.meeting_state","data":{"meeting_state":"kicked"}}]`,
			wantPath: "/v3/notetakers/n1/history",
			want:     []nylas.HistoryEvent{{CreatedAt: 1700000000, EventType: "notetaker.meeting_state", Data: []byte(`{"meeting_state":"kicked"}`)}}},
		{name: "no events", grant: "g1", data: `{"events":[]}`, wantPath: "/v3/grants/g1/notetakers/n1/history", want: []nylas.HistoryEvent{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(tc.data))
			c, _ := f.client()
			got, err := c.History(context.Background(), tc.grant, "n1")
			if err != nil {
				t.Fatal(err)
			}
			if p := f.requests()[0].EscapedPath; p != tc.wantPath {
				t.Errorf("path %s, want %s", p, tc.wantPath)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].CreatedAt != tc.want[i].CreatedAt || got[i].EventType != tc.want[i].EventType || string(got[i].Data) != string(tc.want[i].Data) {
					t.Errorf("event %d: %+v (data %s), want %+v (data %s)", i, got[i], got[i].Data, tc.want[i], tc.want[i].Data)
				}
			}
		})
	}
}
