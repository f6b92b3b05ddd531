package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/ats/atstest"
)

func TestCheckATS(t *testing.T) {
	lv := atstest.NewLever("lever-key")
	defer lv.Close()
	gh := atstest.NewGreenhouse("gh-client", "gh-secret")
	defer gh.Close()
	as := atstest.NewAshby("ashby-key")
	defer as.Close()
	const leverUser = "c4a1e1d2-0f9b-4d7e-b6a5-3e2d1c0b9a08"
	lever := func(key, user string) string {
		return fmt.Sprintf("type = \"lever\"\nbase_url = %q\napi_key = %q\nuser_id = %q\n", lv.URL+"/v1", key, user)
	}
	greenhouse := func(secret, user string) string {
		return fmt.Sprintf("type = \"greenhouse\"\nbase_url = %q\nuser_id = %q\n[ats.greenhouse]\ntoken_url = %q\nclient_id = \"gh-client\"\nclient_secret = %q\n",
			gh.URL+"/v3", user, gh.TokenURL(), secret)
	}
	cases := []struct {
		name, ats string
		offline   bool
		want      string // "" = ok
	}{
		{"lever good", lever("lever-key", leverUser), false, ""},
		{"lever wrong key", lever("wrong", leverUser), false, "ats (lever): the credentials were refused"},
		{"lever unknown acting user", lever("lever-key", "00000000-0000-4000-8000-000000000000"), false, "ats (lever): lever: acting user"},
		{"greenhouse good", greenhouse("gh-secret", "4081"), false, ""},
		{"greenhouse wrong secret", greenhouse("wrong", "4081"), false, "ats (greenhouse): the credentials were refused"},
		{"ashby good", fmt.Sprintf("type = \"ashby\"\nbase_url = %q\napi_key = \"ashby-key\"\n", as.URL), false, ""},
		{"unreachable is a warning", fmt.Sprintf("type = \"ashby\"\nbase_url = %q\napi_key = \"k\"\n", "http://127.0.0.1:1"), false, "warning: ats (ashby): not reachable now"},
		{"offline skips the probe", lever("wrong", leverUser), true, ""},
	}
	nylasAPI := nylasStandIn(t) // check probes the Nylas key too
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			cfg := fmt.Sprintf("data_dir = %q\n[server]\nlisten = \"127.0.0.1:%d\"\n[nylas]\napi_base = %q\napi_key = \"k\"\nwebhook_secrets = [\"s\"]\n[ats]\nenabled = true\n%s",
				privateDir(t), freePort(t), nylasAPI, tc.ats)
			os.WriteFile(path, []byte(cfg), 0o600)
			args := []string{"check", "-config", path}
			if tc.offline {
				args = append(args, "-offline")
			}
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), args, &stdout, &stderr)
			out := stdout.String()
			if tc.want == "" {
				if err != nil || out != "ok\n" {
					t.Fatalf("check: %v, %q %q", err, out, stderr.String())
				}
				return
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("check said %q, want %q", out, tc.want)
			}
			if warn := strings.HasPrefix(tc.want, "warning:"); warn != (err == nil) {
				t.Fatalf("check returned %v for %q", err, out)
			}
		})
	}
}
