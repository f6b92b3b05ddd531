package nylas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

const createdWebhook = `{"id":"wh1","description":"notekeeper","trigger_types":["notetaker.media","notetaker.meeting_state"],
"webhook_url":"https://nk.example/hooks/nylas","status":"active","notification_email_addresses":["ops@nk.example"],
"compressed_delivery":true,"webhook_secret":"s3cr3t-value","status_updated_at":1737000001,"created_at":1737000000,"updated_at":1737000002}`

// bodyOf decodes a JSON request body for comparison.
func bodyOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("body %q: %v", s, err)
	}
	return m
}

func TestCreateWebhook(t *testing.T) {
	cases := []struct {
		name     string
		in       nylas.WebhookCreate
		wantBody map[string]any
	}{
		{name: "required fields only",
			in:       nylas.WebhookCreate{TriggerTypes: []string{"notetaker.media"}, WebhookURL: "https://nk.example/hooks/nylas"},
			wantBody: map[string]any{"trigger_types": []any{"notetaker.media"}, "webhook_url": "https://nk.example/hooks/nylas"}},
		{name: "every field",
			in: nylas.WebhookCreate{TriggerTypes: []string{"notetaker.media", "notetaker.meeting_state"}, WebhookURL: "https://nk.example/hooks/nylas",
				Description: "notekeeper", NotificationEmailAddresses: []string{"ops@nk.example"}, CompressedDelivery: true},
			wantBody: map[string]any{"trigger_types": []any{"notetaker.media", "notetaker.meeting_state"},
				"webhook_url": "https://nk.example/hooks/nylas", "description": "notekeeper",
				"notification_email_addresses": []any{"ops@nk.example"}, "compressed_delivery": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(createdWebhook))
			c, _ := f.client()
			w, err := c.CreateWebhook(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "POST" || r.EscapedPath != "/v3/webhooks" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s (%s)", r.Method, r.EscapedPath, r.Header.Get("Content-Type"))
			}
			if got := bodyOf(t, r.Body); !reflect.DeepEqual(got, tc.wantBody) {
				t.Errorf("body %v, want %v", got, tc.wantBody)
			}
			want := nylas.Webhook{ID: "wh1", Description: "notekeeper", WebhookURL: "https://nk.example/hooks/nylas", Status: "active",
				WebhookSecret: "s3cr3t-value", TriggerTypes: []string{"notetaker.media", "notetaker.meeting_state"},
				NotificationEmailAddresses: []string{"ops@nk.example"}, CompressedDelivery: true,
				StatusUpdatedAt: 1737000001, CreatedAt: 1737000000, UpdatedAt: 1737000002}
			if !reflect.DeepEqual(*w, want) {
				t.Errorf("decoded %+v\nwant    %+v", *w, want)
			}
		})
	}
}

func TestCreateWebhookInvalid(t *testing.T) {
	cases := []struct {
		name string
		in   nylas.WebhookCreate
	}{
		{name: "no trigger types", in: nylas.WebhookCreate{WebhookURL: "https://nk.example/hooks/nylas"}},
		{name: "no URL", in: nylas.WebhookCreate{TriggerTypes: []string{"notetaker.media"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			c, _ := f.client()
			if _, err := c.CreateWebhook(context.Background(), tc.in); err == nil {
				t.Error("want an error")
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests, want 0", n)
			}
		})
	}
}

func TestUpdateWebhook(t *testing.T) {
	cases := []struct {
		name     string
		id       string
		in       nylas.WebhookUpdate
		wantPath string
		wantBody string // exact bytes: only set fields
	}{
		{name: "reactivate", id: "wh1", in: nylas.WebhookUpdate{Status: "active"},
			wantPath: "/v3/webhooks/wh1", wantBody: `{"status":"active"}`},
		{name: "description and triggers", id: "wh1",
			in:       nylas.WebhookUpdate{Description: "nk", TriggerTypes: []string{"notetaker.media"}},
			wantPath: "/v3/webhooks/wh1", wantBody: `{"trigger_types":["notetaker.media"],"description":"nk"}`},
		{name: "URL and e-mails, id escaped", id: "wh/1",
			in:       nylas.WebhookUpdate{WebhookURL: "https://nk.example/h", NotificationEmailAddresses: []string{"a@b.example"}},
			wantPath: "/v3/webhooks/wh%2F1", wantBody: `{"webhook_url":"https://nk.example/h","notification_email_addresses":["a@b.example"]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(`{"id":"wh1","status":"active"}`))
			c, _ := f.client()
			w, err := c.UpdateWebhook(context.Background(), tc.id, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "PUT" || r.EscapedPath != tc.wantPath || r.Body != tc.wantBody {
				t.Errorf("request %s %s %s, want PUT %s %s", r.Method, r.EscapedPath, r.Body, tc.wantPath, tc.wantBody)
			}
			if w.Status != "active" {
				t.Errorf("decoded %+v", w)
			}
		})
	}
}

func TestUpdateWebhookNothingToChange(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.client()
	if _, err := c.UpdateWebhook(context.Background(), "wh1", nylas.WebhookUpdate{}); err == nil {
		t.Error("want an error")
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestRotateWebhookSecret(t *testing.T) {
	cases := []struct{ name, id, wantPath string }{
		{name: "plain id", id: "wh1", wantPath: "/v3/webhooks/rotate-secret/wh1"},
		{name: "id escaped", id: "wh 1/x", wantPath: "/v3/webhooks/rotate-secret/wh%201%2Fx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, ok(`{"id":"wh1","status":"active","webhook_secret":"n3w-s3cr3t"}`))
			c, _ := f.client()
			w, err := c.RotateWebhookSecret(context.Background(), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "POST" || r.EscapedPath != tc.wantPath {
				t.Errorf("request %s %s, want POST %s", r.Method, r.EscapedPath, tc.wantPath)
			}
			if w.WebhookSecret != "n3w-s3cr3t" {
				t.Errorf("decoded %+v", w)
			}
		})
	}
}

func TestGetWebhookStatus(t *testing.T) {
	for _, st := range []string{"active", "pause", "failing", "failed"} {
		t.Run(st, func(t *testing.T) {
			f := newFakeAPI(t, ok(`{"id":"wh1","status":"`+st+`","status_updated_at":1737000100,"webhook_url":"https://nk.example/h"}`))
			c, _ := f.client()
			w, err := c.GetWebhook(context.Background(), "wh1")
			if err != nil {
				t.Fatal(err)
			}
			if w.Status != st || w.StatusUpdatedAt != 1737000100 || w.WebhookSecret != "" {
				t.Errorf("decoded %+v", w)
			}
			if r := f.requests()[0]; r.Method != "GET" || r.EscapedPath != "/v3/webhooks/wh1" {
				t.Errorf("request %s %s", r.Method, r.EscapedPath)
			}
		})
	}
}

func TestListWebhooks(t *testing.T) {
	list := func(next string, ids ...string) answer {
		var items []string
		for _, id := range ids {
			items = append(items, `{"id":"`+id+`","status":"active"}`)
		}
		return answer{status: 200, body: `{"request_id":"r","data":[` + strings.Join(items, ",") + `],"next_cursor":"` + next + `"}`}
	}
	cases := []struct {
		name        string
		script      []answer
		wantIDs     []string
		wantQueries []string
		wantErr     bool
	}{
		{name: "one unpaged answer", script: []answer{list("", "wh1", "wh2")},
			wantIDs: []string{"wh1", "wh2"}, wantQueries: []string{""}},
		{name: "no cursor member at all", script: []answer{ok(`[{"id":"wh1"}]`)},
			wantIDs: []string{"wh1"}, wantQueries: []string{""}},
		{name: "follows next_cursor", script: []answer{list("c1", "wh1"), list("c2", "wh2"), list("", "wh3")},
			wantIDs: []string{"wh1", "wh2", "wh3"}, wantQueries: []string{"", "page_token=c1", "page_token=c2"}},
		{name: "repeated cursor is an error", script: []answer{list("c1", "wh1"), list("c1", "wh2")},
			wantQueries: []string{"", "page_token=c1"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			c, _ := f.client()
			ws, err := c.ListWebhooks(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.ID)
			}
			if !reflect.DeepEqual(ids, tc.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tc.wantIDs)
			}
			var queries []string
			for _, r := range f.requests() {
				queries = append(queries, r.RawQuery)
				if r.Method != "GET" || r.EscapedPath != "/v3/webhooks" {
					t.Errorf("request %s %s", r.Method, r.EscapedPath)
				}
			}
			if !reflect.DeepEqual(queries, tc.wantQueries) {
				t.Errorf("queries %q, want %q", queries, tc.wantQueries)
			}
		})
	}
}

func TestWebhookLogValueOmitsSecret(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	w := nylas.Webhook{ID: "wh1", Status: "active", WebhookSecret: "s3cr3t-value", WebhookURL: "https://nk.example/h"}
	log.Info("created", slog.Any("webhook", w), slog.Any("ptr", &w))
	if strings.Contains(logs.String(), "s3cr3t-value") || !strings.Contains(logs.String(), `"has_secret":true`) {
		t.Errorf("log line %s", logs.String())
	}
}
