package appliance_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestRoutes_UnmatchedAnswerJSON: a path no route knows, or a known path
// with another method, is answered like every other error, as JSON.
func TestRoutes_UnmatchedAnswerJSON(t *testing.T) {
	app := openApp(t, false)
	cases := []struct {
		name, method, path string
		want               int
		allow              string // the Allow header of a 405
		error              string
	}{
		{name: "unknown path", method: "GET", path: "/nope", want: 404, error: "not found"},
		{name: "root", method: "GET", path: "/", want: 404, error: "not found"},
		{name: "files without a name", method: "GET", path: "/files/nt1", want: 404, error: "not found"},
		{name: "PUT on the webhook", method: "PUT", path: "/webhooks/nylas", want: 405, allow: "GET, HEAD, POST",
			error: "method not allowed (allowed: GET, HEAD, POST)"},
		{name: "POST on healthz", method: "POST", path: "/healthz", want: 405, allow: "GET, HEAD",
			error: "method not allowed (allowed: GET, HEAD)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, app.Server.URL()+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if resp.StatusCode != tc.want || body.Error != tc.error {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body.Error, tc.want, tc.error)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	t.Run("matched routes keep their answers", func(t *testing.T) {
		resp, err := http.Get(app.Server.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") == "application/json" {
			t.Errorf("/healthz: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
