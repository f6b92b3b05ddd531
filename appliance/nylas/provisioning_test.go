package nylas_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

func ptr[T any](v T) *T { return &v }

// standIn returns testdata/name of the stand-in's samples.
func standIn(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("nylastest", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGetCalendarDecodesNotetakerRules(t *testing.T) {
	f := newFakeAPI(t, answer{status: 200, body: standIn(t, "calendar-notetaker.json")})
	c, _ := f.client()
	cal, err := c.GetCalendar(context.Background(), "grant-sales-1", "primary")
	if err != nil {
		t.Fatal(err)
	}
	if r := f.requests()[0]; r.Method != "GET" || r.EscapedPath != "/v3/grants/grant-sales-1/calendars/primary" {
		t.Errorf("request %s %s", r.Method, r.EscapedPath)
	}
	nt := cal.Notetaker
	if cal.ID != "rep@example.com" || nt == nil || *nt.Name != "Nylas Notetaker" ||
		!reflect.DeepEqual(nt.Rules.EventSelection, []string{"external"}) || *nt.Rules.ParticipantsGTE != 2 ||
		nt.Rules.ParticipantsLTE != nil || !*nt.Settings.Summary || *nt.Settings.LeaveAfterSilenceSeconds != 300 ||
		*nt.Settings.SummaryInstructions != "Return this summary in the MEDPIC sales methodology." {
		t.Errorf("decoded %+v / %+v", cal, nt)
	}
}

func TestSetCalendarNotetakerBody(t *testing.T) {
	cases := []struct {
		name string
		nt   *nylas.CalendarNotetaker
		want string
	}{
		{name: "switched off", nt: nil, want: `{"notetaker":null}`},
		{name: "whole object, unset keys left out",
			nt: &nylas.CalendarNotetaker{Name: ptr("Bot"),
				Settings: nylas.BotSettings{Summary: ptr(false), LeaveAfterSilenceSeconds: ptr(60), ActionItemsInstructions: ptr("Top 3")},
				Rules:    nylas.CalendarRules{EventSelection: []string{"external"}, ParticipantsLTE: ptr(9)}},
			want: `{"notetaker":{"name":"Bot","meeting_settings":{"summary":false,"action_items_settings":{"custom_instructions":"Top 3"},"leave_after_silence_seconds":60},"rules":{"event_selection":["external"],"participant_filter":{"participants_lte":9}}}}`},
		{name: "empty rules", nt: &nylas.CalendarNotetaker{}, want: `{"notetaker":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(`{"id":"c1"}`))
			c, _ := f.client()
			if _, err := c.SetCalendarNotetaker(context.Background(), "g", "c#1", tc.nt); err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "PUT" || r.EscapedPath != "/v3/grants/g/calendars/c%231" || r.Body != tc.want {
				t.Errorf("sent %s %s %s\nwant PUT /v3/grants/g/calendars/c%%231 %s", r.Method, r.EscapedPath, r.Body, tc.want)
			}
		})
	}
}

func TestConfigurationDecodeAndUpdateBody(t *testing.T) {
	current := `{"id":"cfg1","slug":"hiring","requires_session_auth":false,
		"participants":[{"email":"Alice@example.com","name":"Alice","is_organizer":true,"timezone":"Europe/Berlin",
			"availability":{"calendar_ids":["primary"],"open_hours":[{"days":[1],"start":"9:00","end":"17:00"}]},"booking":{"calendar_id":"primary"}}],
		"availability":{"duration_minutes":30,"round_to":15,"availability_rules":{"availability_method":"collective","buffer":{"before":0,"after":10}}},
		"event_booking":{"title":"Old","description":"Bring a CV","conferencing":{"provider":"Zoom Meeting","autocreate":{"conf_grant_id":"zg"}}},
		"scheduler":{"min_cancellation_notice":120,"notetaker_settings":{"enabled":true,"notetaker_name":"Rec"}}}`
	f := newFakeAPI(t, ok(current), ok(current))
	c, _ := f.client()
	ctx := context.Background()
	cur, err := c.GetConfiguration(ctx, "recruiting@example.com", "cfg1")
	if err != nil {
		t.Fatal(err)
	}
	if *cur.Slug != "hiring" || cur.DurationMinutes != 30 || *cur.AvailabilityMethod != "collective" ||
		cur.Conferencing != "Zoom Meeting" || *cur.Notetaker.Name != "Rec" || *cur.Participants[0].IsOrganizer != true {
		t.Errorf("decoded %+v", cur)
	}
	want := &nylas.Configuration{Slug: ptr("hiring"), DurationMinutes: 45, AvailabilityMethod: ptr("max-fairness"),
		Title: "New", Conferencing: "Zoom Meeting",
		Participants: []nylas.ConfigParticipant{
			{Email: "alice@example.com", Name: "Alice R", IsOrganizer: ptr(true), CalendarIDs: []string{"primary"}, BookingCalendarID: "primary"},
			{Email: "bob@example.com", Name: "Bob", IsOrganizer: ptr(false), CalendarIDs: []string{"primary"}, BookingCalendarID: "primary"}},
		Notetaker: &nylas.SchedulerNotetaker{Enabled: ptr(true), Name: ptr("Interview Recorder")}}
	if _, err := c.UpdateConfiguration(ctx, "recruiting@example.com", cur, want, []nylas.Section{nylas.SectionScheduler}); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[1]
	if r.Method != "PUT" || r.EscapedPath != "/v3/grants/recruiting@example.com/scheduling/configurations/cfg1" {
		t.Errorf("sent %s %s", r.Method, r.EscapedPath)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for k := range body {
		keys = append(keys, k)
	}
	if len(body) != 4 {
		t.Errorf("sections sent %v, want participants, availability, event_booking (required) and scheduler", keys)
	}
	checks := []struct {
		path string
		want any
	}{
		{"availability.duration_minutes", 45.0},
		{"availability.round_to", 15.0},                        // not managed: kept
		{"availability.availability_rules.buffer.after", 10.0}, // not managed: kept
		{"availability.availability_rules.availability_method", "max-fairness"},
		{"event_booking.title", "New"},
		{"event_booking.description", "Bring a CV"},                   // not managed: kept
		{"event_booking.conferencing.autocreate.conf_grant_id", "zg"}, // same provider: kept whole
		{"scheduler.min_cancellation_notice", 120.0},                  // not managed: kept
		{"scheduler.notetaker_settings.notetaker_name", "Interview Recorder"},
	}
	for _, ck := range checks {
		if got := dig(body, ck.path); !reflect.DeepEqual(got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.path, got, ck.want)
		}
	}
	ps := body["participants"].([]any)
	alice := ps[0].(map[string]any)
	if len(ps) != 2 || alice["name"] != "Alice R" || alice["timezone"] != "Europe/Berlin" || dig(alice, "availability.open_hours") == nil {
		t.Errorf("participants %v: want alice merged over her current entry (timezone, open hours kept) and bob added", ps)
	}
}

func TestConfigurationConferencingChanges(t *testing.T) {
	current := `{"id":"cfg1","participants":[],"availability":{"duration_minutes":30},
		"event_booking":{"title":"T","conferencing":{"provider":"Zoom Meeting","autocreate":{"conf_grant_id":"zg"}}}}`
	cases := []struct {
		name, provider string
		want           any
	}{
		{name: "removed", provider: "", want: map[string]any{}},
		{name: "other provider", provider: "Google Meet", want: map[string]any{"provider": "Google Meet", "autocreate": map[string]any{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(current), ok(current))
			c, _ := f.client()
			cur, err := c.GetConfiguration(context.Background(), "g", "cfg1")
			if err != nil {
				t.Fatal(err)
			}
			want := &nylas.Configuration{DurationMinutes: 30, Title: "T", Conferencing: tc.provider}
			if _, err := c.UpdateConfiguration(context.Background(), "g", cur, want, []nylas.Section{nylas.SectionEventBooking}); err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.Unmarshal([]byte(f.requests()[1].Body), &body)
			if got := dig(body, "event_booking.conferencing"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("conferencing %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestListConfigurationsPages(t *testing.T) {
	f := newFakeAPI(t,
		answer{status: 200, body: `{"request_id":"1","data":[{"id":"a","slug":"x"}],"next_cursor":"c2"}`},
		answer{status: 200, body: `{"request_id":"2","data":[{"id":"b","slug":null}],"next_cursor":""}`})
	c, _ := f.client()
	var ids []string
	err := c.EachConfiguration(context.Background(), "g", func(cfg *nylas.Configuration) (bool, error) {
		ids = append(ids, cfg.ID)
		return true, nil
	})
	if err != nil || !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Fatalf("ids %v err %v", ids, err)
	}
	rs := f.requests()
	if rs[0].Query.Get("limit") != "200" || rs[0].Query.Get("page_token") != "" || rs[1].Query.Get("page_token") != "c2" {
		t.Errorf("queries %q, %q", rs[0].RawQuery, rs[1].RawQuery)
	}
}

func TestCreatesAreNotRetriedBlindly(t *testing.T) {
	cases := []struct {
		name    string
		call    func(c *nylas.Client) error
		script  []answer
		wantReq int
	}{
		{name: "bot create after a 500", call: func(c *nylas.Client) error {
			_, err := c.CreateNotetaker(context.Background(), "g", nylas.NotetakerCreate{MeetingLink: "https://meet.google.com/a"})
			return err
		}, script: []answer{apiError(500, "internal_error", "boom")}, wantReq: 1},
		{name: "bot create after a dropped connection", call: func(c *nylas.Client) error {
			_, err := c.CreateNotetaker(context.Background(), "g", nylas.NotetakerCreate{MeetingLink: "https://meet.google.com/a"})
			return err
		}, script: []answer{{drop: true}}, wantReq: 1},
		{name: "configuration create after a 504", call: func(c *nylas.Client) error {
			_, err := c.CreateConfiguration(context.Background(), "g", &nylas.Configuration{DurationMinutes: 30, Title: "T"})
			return err
		}, script: []answer{apiError(504, "provider_error", "slow")}, wantReq: 1},
		{name: "bot create after a 429 is retried", call: func(c *nylas.Client) error {
			_, err := c.CreateNotetaker(context.Background(), "g", nylas.NotetakerCreate{MeetingLink: "https://meet.google.com/a"})
			return err
		}, script: []answer{apiError(429, "rate_limit_error", "slow down"), {status: 201, body: `{"data":{"id":"n1"}}`}}, wantReq: 2},
		{name: "send after a 500 is retried with the same key", call: func(c *nylas.Client) error {
			_, err := c.SendMessage(context.Background(), "g", "nt1", nylas.Message{To: []nylas.Address{{Email: "a@example.com"}}, Subject: "S", Body: "B"})
			return err
		}, script: []answer{apiError(500, "internal_error", "boom"), ok(`{"id":"m1"}`)}, wantReq: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			c, _ := f.client()
			err := tc.call(c)
			if got := len(f.requests()); got != tc.wantReq {
				t.Errorf("%d requests, want %d (err %v)", got, tc.wantReq, err)
			}
			if tc.wantReq == 1 && err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestSendMessage(t *testing.T) {
	f := newFakeAPI(t, answer{status: 200, body: standIn(t, "message-sent.json")})
	c, _ := f.client()
	m, err := c.SendMessage(context.Background(), "grant 1", "nt7Hq2LmZ", nylas.Message{
		To: []nylas.Address{{Name: "Ann", Email: "ann@example.com"}}, Subject: "Notes: Demo", Body: "<p>hi</p>"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Method != "POST" || r.EscapedPath != "/v3/grants/grant%201/messages/send" || r.Header.Get("Idempotency-Key") != "nt7Hq2LmZ" {
		t.Errorf("sent %s %s key %q", r.Method, r.EscapedPath, r.Header.Get("Idempotency-Key"))
	}
	if want := `{"to":[{"name":"Ann","email":"ann@example.com"}],"subject":"Notes: Demo","body":"\u003cp\u003ehi\u003c/p\u003e"}`; r.Body != want {
		t.Errorf("body %s\nwant %s", r.Body, want)
	}
	if m.ID != "MESSAGE" {
		t.Errorf("message %+v", m)
	}
	for _, bad := range []struct {
		key string
		to  []nylas.Address
	}{{"", []nylas.Address{{Email: "a@b"}}}, {strings.Repeat("k", 257), []nylas.Address{{Email: "a@b"}}}, {"k", nil}} {
		if _, err := c.SendMessage(context.Background(), "g", bad.key, nylas.Message{To: bad.to}); err == nil {
			t.Errorf("key %.10q to %v: no error", bad.key, bad.to)
		}
	}
	if len(f.requests()) != 1 {
		t.Error("a refused send reached the API")
	}
}

func TestListGrantsPagesByOffset(t *testing.T) {
	var page []string
	for i := range 100 {
		page = append(page, `{"id":"g`+string(rune('a'+i%26))+`","email":"x@example.com","provider":"google","grant_status":"valid"}`)
	}
	f := newFakeAPI(t,
		answer{status: 200, body: `{"request_id":"1","data":[` + strings.Join(page, ",") + `],"limit":100,"offset":0}`},
		answer{status: 200, body: standIn(t, "grants.json")})
	c, _ := f.client()
	gs, err := c.ListGrants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 101 || gs[100].Email != "rep@example.com" || gs[100].GrantStatus != "valid" || gs[100].Provider != "google" {
		t.Errorf("%d grants, last %+v", len(gs), gs[len(gs)-1])
	}
	if q := f.requests()[1].Query; q.Get("offset") != "100" || q.Get("limit") != "100" {
		t.Errorf("second page query %v", q)
	}
}

func TestProvisioningArgumentErrors(t *testing.T) {
	c := nylas.New("http://127.0.0.1:1", apiKey)
	ctx := context.Background()
	errs := []error{
		func() error { _, err := c.GetCalendar(ctx, "", "primary"); return err }(),
		func() error { _, err := c.GetCalendar(ctx, "g", ".."); return err }(),
		func() error { _, err := c.GetConfiguration(ctx, "g", ""); return err }(),
		func() error { _, err := c.CreateNotetaker(ctx, "g", nylas.NotetakerCreate{}); return err }(),
		c.CancelNotetaker(ctx, "g", ""),
		c.LeaveNotetaker(ctx, "g", "."),
	}
	for i, err := range errs {
		var e *nylas.Error
		if err == nil || errors.As(err, &e) {
			t.Errorf("case %d: %v, want an error before any request", i, err)
		}
	}
}

// dig reads a dotted path of decoded JSON.
func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
