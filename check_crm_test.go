package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
)

func TestCheck_CRMProbe(t *testing.T) {
	hs := crmtest.NewHubSpot("pat-good")
	defer hs.Close()
	sf := crmtest.NewSalesforce("cid", "good-secret")
	defer sf.Close()
	nylasAPI := nylasStandIn(t)
	gone := crmtest.NewHubSpot("x")
	goneURL := gone.URL()
	gone.Close()
	cases := []struct {
		name    string
		crm     string
		offline bool
		want    string // substring of the first line; "" = "ok"
		fails   bool
	}{
		{"hubspot accepts the token", fmt.Sprintf("type = \"hubspot\"\nbase_url = %q\napi_key = \"pat-good\"\n", hs.URL()), false, "", false},
		{"wrong hubspot token is a problem", fmt.Sprintf("type = \"hubspot\"\nbase_url = %q\napi_key = \"pat-wrong\"\n", hs.URL()), false, "crm: hubspot rejected the credentials (crm.api_key)", true},
		{"unreachable CRM is a warning", fmt.Sprintf("type = \"hubspot\"\nbase_url = %q\napi_key = \"pat-good\"\n", goneURL), false, "warning: crm: hubspot could not be reached", false},
		{"offline skips the probe", fmt.Sprintf("type = \"hubspot\"\nbase_url = %q\napi_key = \"pat-wrong\"\n", hs.URL()), true, "", false},
		{"wrong salesforce secret is a problem", fmt.Sprintf("type = \"salesforce\"\n[crm.salesforce]\nlogin_url = %q\nclient_id = \"cid\"\nclient_secret = \"bad\"\n", sf.URL()), false, "crm: salesforce rejected the credentials (crm.salesforce.client_id/client_secret)", true},
		{"salesforce accepts the connected app", fmt.Sprintf("type = \"salesforce\"\n[crm.salesforce]\nlogin_url = %q\nclient_id = \"cid\"\nclient_secret = \"good-secret\"\n", sf.URL()), false, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			cfg := fmt.Sprintf("data_dir = %q\n[server]\nlisten = \"127.0.0.1:%d\"\n[nylas]\napi_base = %q\napi_key = \"k\"\nwebhook_secrets = [\"s\"]\n[crm]\nenabled = true\n", privateDir(t), freePort(t), nylasAPI) + tc.crm
			os.WriteFile(path, []byte(cfg), 0o600)
			args := []string{"check", "-config", path}
			if tc.offline {
				args = append(args, "-offline")
			}
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), args, &stdout, &stderr)
			var ee exitError
			if tc.fails != errors.As(err, &ee) || (!tc.fails && err != nil) {
				t.Fatalf("check returned %v, output %q %q", err, stdout.String(), stderr.String())
			}
			first := strings.SplitN(stdout.String(), "\n", 2)[0]
			if tc.want == "" && stdout.String() != "ok\n" || tc.want != "" && !strings.Contains(first, tc.want) {
				t.Fatalf("output %q, want %q", stdout.String(), tc.want)
			}
		})
	}
}
