package nylastest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
)

const key = "nyk_standin"

func TestStandInDemandsTheAPIKey(t *testing.T) {
	s := nylastest.New(t, key)
	s.AddGrant("g1", "a@example.com", "google")
	cases := []struct {
		name, auth string
		want       int
	}{
		{name: "no header", auth: "", want: 401},
		{name: "wrong key", auth: "Bearer nope", want: 401},
		{name: "the key", auth: "Bearer " + key, want: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.URL+"/v3/grants", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 401 && !strings.Contains(string(body), `"error":{"message":"Unauthorized","type":"unauthorized"}`) {
				t.Errorf("body %s, want Nylas' error envelope", body)
			}
		})
	}
}

func TestStandInFillsDefaultsAndPages(t *testing.T) {
	s := nylastest.New(t, key)
	s.PageSize = 1
	s.AddGrant("g1", "a@example.com", "google")
	s.AddCalendar("g1", "a@example.com", true)
	c := nylas.New(s.URL, key)
	ctx := context.Background()

	if _, err := c.SetCalendarNotetaker(ctx, "g1", "primary", &nylas.CalendarNotetaker{}); err != nil {
		t.Fatal(err)
	}
	cal, err := c.GetCalendar(ctx, "a@example.com", "primary")
	if err != nil {
		t.Fatal(err)
	}
	if nt := cal.Notetaker; nt == nil || *nt.Name != "Nylas Notetaker" || !*nt.Settings.Transcription || *nt.Settings.LeaveAfterSilenceSeconds != 300 {
		t.Errorf("calendar rules as answered: %+v", cal.Notetaker)
	}

	for _, slug := range []string{"one", "two", "three"} {
		if _, err := c.CreateConfiguration(ctx, "g1", &nylas.Configuration{Slug: &slug, DurationMinutes: 30, Title: "T"}); err != nil {
			t.Fatal(err)
		}
	}
	dup := "two"
	var e *nylas.Error
	if _, err := c.CreateConfiguration(ctx, "g1", &nylas.Configuration{Slug: &dup, DurationMinutes: 30, Title: "T"}); !errors.As(err, &e) || e.Status != 400 {
		t.Errorf("duplicate slug: %v, want a 400", err)
	}
	var slugs []string
	err = c.EachConfiguration(ctx, "g1", func(cfg *nylas.Configuration) (bool, error) {
		slugs = append(slugs, *cfg.Slug)
		if *cfg.RequiresSessionAuth || *cfg.AvailabilityMethod != "collective" {
			t.Errorf("defaults not filled: %+v", cfg)
		}
		return true, nil
	})
	if err != nil || strings.Join(slugs, ",") != "one,two,three" {
		t.Errorf("slugs %v err %v", slugs, err)
	}
	pages := 0
	for _, r := range s.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/configurations") {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3 of one", pages)
	}
}

func TestStandInSendIsIdempotent(t *testing.T) {
	s := nylastest.New(t, key)
	s.AddGrant("g1", "a@example.com", "google")
	c := nylas.New(s.URL, key)
	m := nylas.Message{To: []nylas.Address{{Email: "b@example.com"}}, Subject: "S", Body: "B"}
	first, err := c.SendMessage(context.Background(), "g1", "k1", m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.SendMessage(context.Background(), "g1", "k1", m)
	if err != nil || again.ID != first.ID {
		t.Errorf("replay %+v (%v), want message %s again", again, err, first.ID)
	}
	m.Body = "other"
	var e *nylas.Error
	if _, err := c.SendMessage(context.Background(), "g1", "k1", m); !errors.As(err, &e) || e.Status != 409 || e.Type != "api.invalid_idempotent_request" {
		t.Errorf("same key, other body: %v, want 409 api.invalid_idempotent_request", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}
