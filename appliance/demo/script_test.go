package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/demo"
)

// Every notification of the script keeps the exact shape (every key path)
// of the Nylas fixture it was made from.
func TestScriptKeepsFixtureShapes(t *testing.T) {
	sim, ts, now := openSim(t)
	steps := demo.Script(sim, ts.URL)
	fixtureOf := map[string]string{
		"notetaker.created":       "notetaker-created.json",
		"notetaker.meeting_state": "notetaker-meeting-state-attending.json",
		"notetaker.media":         "notetaker-media-available.json",
		"booking.created":         "booking-created.json",
	}
	var types []string
	seen := map[string]bool{}
	for _, s := range steps {
		types = append(types, s.Type)
		if seen[s.ID] {
			t.Fatalf("envelope id %s used twice", s.ID)
		}
		seen[s.ID] = true
		fix, err := os.ReadFile("../testdata/fixtures/" + fixtureOf[s.Type])
		if err != nil {
			t.Fatal(err)
		}
		if a, b := keys(t, fix), keys(t, s.Body); !slices.Equal(a, b) {
			t.Fatalf("%s %s: keys\n%v\nfixture\n%v", s.Scenario, s.Type, b, a)
		}
		var env struct {
			Time int64 `json:"time"`
			Data struct {
				Object struct {
					Media struct {
						RetainedUntil int64 `json:"retained_until"`
					} `json:"media"`
				} `json:"object"`
			} `json:"data"`
		}
		if err := json.Unmarshal(s.Body, &env); err != nil {
			t.Fatal(err)
		}
		if env.Time > now.Unix() {
			t.Fatalf("%s: time in the future", s.ID)
		}
		if s.Type == "notetaker.media" && env.Data.Object.Media.RetainedUntil <= now.Add(13*24*time.Hour).Unix() {
			t.Fatalf("%s: retained_until %d not ~14 days ahead", s.ID, env.Data.Object.Media.RetainedUntil)
		}
	}
	want := []string{"notetaker.created", "notetaker.meeting_state", "notetaker.media", "booking.created",
		"notetaker.created", "notetaker.media", "notetaker.created", "notetaker.meeting_state"}
	if !slices.Equal(types, want) {
		t.Fatalf("types %v", types)
	}
	if steps[3].AwaitBooking != "bkg-5521" {
		t.Fatalf("the booking step does not wait for its booking: %+v", steps[3])
	}
	if last := string(steps[7].Body); !strings.Contains(last, `"state":"failed_entry"`) {
		t.Fatalf("the lobby bot does not fail entry: %s", last)
	}
}

func TestDriverSignsLikeNylas(t *testing.T) {
	var vector struct {
		Secret    string `json:"secret"`
		Body      string `json:"body"`
		Signature string `json:"x-nylas-signature"`
	}
	b, err := os.ReadFile("../testdata/fixtures/signature-vector.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vector); err != nil {
		t.Fatal(err)
	}
	if got := demo.Sign(vector.Secret, []byte(vector.Body)); got != vector.Signature {
		t.Fatalf("Sign = %s, want %s", got, vector.Signature)
	}

	const secret = "driver-secret"
	tests := []struct {
		name    string
		verify  []string // secrets the receiver accepts
		wantErr bool
	}{
		{"accepted", []string{secret}, false},
		{"refused", []string{"other"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := appliance.NewVerifier(tc.verify...)
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if !v.Verify(body, r.Header.Get("X-Nylas-Signature")) {
					http.Error(w, "bad signature", http.StatusUnauthorized)
				}
			}))
			defer ts.Close()
			err := (&demo.Driver{URL: ts.URL, Secret: secret}).Send(context.Background(), []byte(vector.Body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
