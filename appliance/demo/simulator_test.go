package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/demo"
	"github.com/notekeeper/notekeeper/appliance/nylas"
)

const testAPIKey = "sim-test-key"

// openSim serves a simulator of the demo's meetings on httptest, with a
// clock the test moves.
func openSim(t *testing.T) (*demo.Simulator, *httptest.Server, *time.Time) {
	t.Helper()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	sim := demo.NewSimulator(testAPIKey, demo.Sales(), demo.Interview(), demo.Lobby())
	sim.Start = now
	sim.Now = func() time.Time { return now }
	ts := httptest.NewServer(sim.Handler())
	t.Cleanup(ts.Close)
	return sim, ts, &now
}

func get(t *testing.T, u string, header ...string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestSignedMediaURLs(t *testing.T) {
	sim, ts, now := openSim(t)
	id := demo.Sales().NotetakerID
	want := demo.Sales().Media()[4] // thumbnail
	valid := sim.MediaURL(ts.URL, id, "thumbnail", now.Add(time.Hour))
	u, _ := url.Parse(valid)
	tamper := func(key, value string) string {
		q := u.Query()
		q.Set(key, value)
		c := *u
		c.RawQuery = q.Encode()
		return c.String()
	}
	other := sim.MediaURL(ts.URL, id, "summary", now.Add(time.Hour))
	otherQuery := other[strings.Index(other, "?"):]

	tests := []struct {
		name   string
		url    string
		later  time.Duration // clock moved before the request
		status int
	}{
		{"valid", valid, 0, 200},
		{"valid until the second it expires", valid, time.Hour, 200},
		{"expired", valid, time.Hour + time.Second, 403},
		{"signed already expired", sim.MediaURL(ts.URL, id, "thumbnail", now.Add(-time.Minute)), 0, 403},
		{"signature tampered", tamper("signature", strings.Repeat("0", 64)), 0, 403},
		{"expiry extended", tamper("expires", "9999999999"), 0, 403},
		{"another file's signature", ts.URL + u.Path + otherQuery, 0, 403},
		{"no signature", ts.URL + u.Path, 0, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := *now
			*now = now.Add(tc.later)
			defer func() { *now = saved }()
			status, body, h := get(t, tc.url)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%s)", status, tc.status, body)
			}
			if status == 200 && (!bytes.Equal(body, want.Data) || h.Get("Content-Type") != "image/png") {
				t.Fatalf("served %d bytes of %q, want the thumbnail", len(body), h.Get("Content-Type"))
			}
		})
	}
	if st := sim.Stats(); st.Refused != 6 || st.Served != 2 {
		t.Fatalf("stats %+v, want 6 refused and 2 served", st)
	}
}

func TestStorageRange(t *testing.T) {
	sim, ts, now := openSim(t)
	u := sim.MediaURL(ts.URL, demo.Sales().NotetakerID, "recording", now.Add(time.Hour))
	status, body, _ := get(t, u, "Range", "bytes=100-")
	if status != http.StatusPartialContent || !bytes.Equal(body, demo.Recording()[100:]) {
		t.Fatalf("range: status %d, %d bytes", status, len(body))
	}
}

// The appliance's own Nylas client against the simulator: every call the
// pipeline makes decodes, and the links the media endpoint hands out fetch
// the same bytes it announces.
func TestSimulatorThroughNylasClient(t *testing.T) {
	_, ts, _ := openSim(t)
	ctx := context.Background()
	c := nylas.New(ts.URL, testAPIKey)
	sales := demo.Sales()

	nt, err := c.GetNotetaker(ctx, sales.GrantID, sales.NotetakerID)
	if err != nil || nt.ID != sales.NotetakerID || nt.CurrentState() != "media_available" || nt.Event.EventID != sales.EventID {
		t.Fatalf("GetNotetaker: %+v %v", nt, err)
	}
	m, err := c.GetMedia(ctx, sales.GrantID, sales.NotetakerID)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sales.Media() {
		mf := m.File(f.Kind)
		if mf == nil || mf.Size != int64(len(f.Data)) || mf.Type != f.ContentType || mf.TTL != 3600 {
			t.Fatalf("media %s: %+v", f.Kind, mf)
		}
		status, body, _ := get(t, mf.URL)
		if status != 200 || sha256.Sum256(body) != sha256.Sum256(f.Data) {
			t.Fatalf("%s: fetched %d, %d bytes", f.Kind, status, len(body))
		}
	}
	ev, err := c.GetEvent(ctx, sales.GrantID, sales.EventID, "primary")
	if err != nil || ev.Title != sales.Title || len(ev.Participants) != 3 || ev.Participants[1].Email != "jo@acme.example" {
		t.Fatalf("GetEvent: %+v %v", ev, err)
	}
	var ids []string
	err = c.EachNotetaker(ctx, sales.GrantID, nylas.ListQuery{State: "failed_entry"}, func(n *nylas.Notetaker) error {
		ids = append(ids, n.ID)
		return nil
	})
	if err != nil || len(ids) != 1 || ids[0] != demo.Lobby().NotetakerID {
		t.Fatalf("EachNotetaker(failed_entry): %v %v", ids, err)
	}
	whs, err := c.ListWebhooks(ctx)
	if err != nil || len(whs) != 1 || whs[0].ID != demo.WebhookID {
		t.Fatalf("ListWebhooks: %+v %v", whs, err)
	}
	if wh, err := c.GetWebhook(ctx, demo.WebhookID); err != nil || wh.Status != "active" {
		t.Fatalf("GetWebhook: %+v %v", wh, err)
	}

	tests := []struct {
		name string
		call func(c *nylas.Client) error
	}{
		{"unknown notetaker", func(c *nylas.Client) error { _, err := c.GetNotetaker(ctx, sales.GrantID, "ntNope"); return err }},
		{"wrong grant", func(c *nylas.Client) error { _, err := c.GetMedia(ctx, "grant-other", sales.NotetakerID); return err }},
		{"unknown event", func(c *nylas.Client) error {
			_, err := c.GetEvent(ctx, sales.GrantID, "evt-nope", "primary")
			return err
		}},
		{"unknown webhook", func(c *nylas.Client) error { _, err := c.GetWebhook(ctx, "wh-nope"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(c); !errors.Is(err, nylas.ErrNotFound) {
				t.Fatalf("err %v, want ErrNotFound", err)
			}
		})
	}
	bad := nylas.New(ts.URL, "wrong-key")
	var apiErr *nylas.Error
	if _, err := bad.GetNotetaker(ctx, sales.GrantID, sales.NotetakerID); !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Fatalf("wrong API key: %v, want a 401", err)
	}
}
