package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/jobs"
	"github.com/notekeeper/notekeeper/store"
)

// TestConfigFacts checks that the values config accepts for facts other
// packages own (config imports no package of the project, so it keeps its
// own copy) agree with their owners.
func TestConfigFacts(t *testing.T) {
	t.Run("alert kinds", func(t *testing.T) {
		var want []string
		for _, k := range store.AlertKinds {
			want = append(want, string(k))
		}
		if got := config.AlertKinds(); !slices.Equal(got, want) {
			t.Errorf("config %q, store %q", got, want)
		}
	})
	t.Run("archive kinds", func(t *testing.T) {
		if got, want := config.ArchiveKinds(), archive.Kinds; !slices.Equal(got, want) {
			t.Errorf("config.ArchiveKinds() = %q, archive.Kinds = %q", got, want)
		}
	})

	t.Run("reserved paths are routed", func(t *testing.T) {
		routed := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) })
		s := appliance.NewServer()
		s.WebhookPath = "/webhooks/nylas"
		s.Metrics, s.Admin = routed, routed
		h := s.Handler()
		answer := func(p string) (int, string) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
			return rec.Code, rec.Body.String()
		}
		unknownCode, unknownBody := answer("/no-such-route")
		for _, p := range config.ReservedPaths() {
			if p == "/" {
				continue // reserved because "GET /" would match every path, not because a route uses it
			}
			if strings.HasSuffix(p, "/") {
				p += "x/y"
			}
			if code, body := answer(p); code == unknownCode && body == unknownBody {
				t.Errorf("config reserves %s but the route table does not serve it (%d %q)", p, code, body)
			}
		}
	})

	t.Run("cron syntax", func(t *testing.T) {
		for _, spec := range []string{"@every 30m", "@daily", "@hourly", "15 2 * * 0", "*/5 * * * *",
			"every day", "0 0 0 * * *", "@every", "61 * * * *", "@reboot"} {
			_, configErr := config.Parse([]byte("[nylas]\napi_key = \"k\"\nwebhook_secrets = [\"s\"]\n[jobs]\nbackup = \"" + spec + "\"\n"))
			jobsErr := jobs.ParseSpec(spec)
			if (configErr == nil) != (jobsErr == nil) {
				t.Errorf("spec %q: config says %v, jobs says %v", spec, configErr, jobsErr)
			}
		}
	})
}
