package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/webhookfile"
	"github.com/notekeeper/notekeeper/config"
)

// nylasWebhooks is an httptest Nylas webhook API with one destination.
type nylasWebhooks struct {
	mu      sync.Mutex
	created map[string]any
	status  string
	secret  string
	calls   []string
}

func (n *nylasWebhooks) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer test-key" {
		http.Error(w, `{"error":{"type":"unauthorized"}}`, http.StatusUnauthorized)
		return
	}
	wh := func() map[string]any {
		return map[string]any{"id": "wh-1", "status": n.status, "webhook_url": "https://notes.example.com/webhooks/nylas",
			"trigger_types": webhookfile.Triggers, "webhook_secret": n.secret}
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/v3/webhooks":
		json.NewDecoder(r.Body).Decode(&n.created)
		n.status, n.secret = "active", "secret-one"
		json.NewEncoder(w).Encode(map[string]any{"data": wh()})
	case r.Method == "POST" && r.URL.Path == "/v3/webhooks/rotate-secret/wh-1":
		n.secret = "secret-two"
		json.NewEncoder(w).Encode(map[string]any{"data": wh()})
	case r.Method == "GET" && r.URL.Path == "/v3/webhooks/wh-1":
		w.Header().Set("Content-Type", "application/json")
		d := wh()
		delete(d, "webhook_secret")
		json.NewEncoder(w).Encode(map[string]any{"data": d})
	case r.Method == "GET" && r.URL.Path == "/v3/webhooks":
		d := wh()
		json.NewEncoder(w).Encode(map[string]any{"data": []any{d, map[string]any{"id": "wh-other", "status": "active", "webhook_url": "https://x"}}})
	default:
		http.NotFound(w, r)
	}
}

func TestWebhookCommands(t *testing.T) {
	fake := &nylasWebhooks{}
	api := httptest.NewServer(http.HandlerFunc(fake.serve))
	defer api.Close()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	secretPath := filepath.Join(dataDir, "webhook-secret")
	os.MkdirAll(dataDir, 0o700)
	os.WriteFile(secretPath, []byte("bootstrap\n"), 0o600)
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`data_dir = %q
[server]
public_url = "https://notes.example.com"
[nylas]
api_base = %q
api_key = "test-key"
webhook_secrets = ["file:%s"]
`, dataDir, api.URL, secretPath)), 0o600)
	cmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), append([]string{"webhook"}, append(args, "-config", cfgPath)...), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	out, err := cmd("create")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if fake.created["webhook_url"] != "https://notes.example.com/webhooks/nylas" || fmt.Sprint(fake.created["trigger_types"]) != fmt.Sprint(webhookfile.Triggers) {
		t.Fatalf("create body %v", fake.created)
	}
	if b, _ := os.ReadFile(secretPath); string(b) != "secret-one\n" {
		t.Fatalf("secret file %q", b)
	}
	if fi, _ := os.Stat(secretPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v", fi.Mode().Perm())
	}
	if id, _ := webhookfile.DestinationID(dataDir); id != "wh-1" {
		t.Fatalf("destination %q", id)
	}
	if strings.Contains(out, "secret-one") {
		t.Fatal("the secret was printed")
	}
	if _, err := cmd("create"); err == nil || !strings.Contains(err.Error(), "already recorded") {
		t.Fatalf("second create: %v", err)
	}

	if out, err := cmd("status"); err != nil || !strings.Contains(out, "destination wh-1: active") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	fake.status = "failing"
	if out, err := cmd("status"); err == nil || !strings.Contains(out, "failing") {
		t.Fatalf("failing status must exit 1: %v\n%s", err, out)
	}
	if out, err := cmd("list"); err != nil || !strings.Contains(out, "*  wh-1") || !strings.Contains(out, "wh-other") {
		t.Fatalf("list: %v\n%s", err, out)
	}

	// Rotation: the new secret is stored, the old one stays accepted for the grace period.
	if out, err := cmd("rotate-secret", "-grace", "1h"); err != nil {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(secretPath); string(b) != "secret-two\n" {
		t.Fatalf("secret after rotation %q", b)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if got := acceptedSecrets(cfg.Nylas.WebhookSecrets, dataDir, now); fmt.Sprint(got) != "[secret-two secret-one]" {
		t.Fatalf("accepted during grace: %v", got)
	}
	if got := acceptedSecrets(cfg.Nylas.WebhookSecrets, dataDir, now.Add(2*time.Hour)); fmt.Sprint(got) != "[secret-two]" {
		t.Fatalf("accepted after grace: %v", got)
	}
}

func TestWebhookCreate_NeedsASecretFile(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(config, []byte("[nylas]\napi_key = \"k\"\nwebhook_secrets = [\"literal\"]\n"), 0o600)
	err := run(t.Context(), []string{"webhook", "create", "-config", config}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "file:/absolute/path") {
		t.Fatalf("create without a file: secret: %v", err)
	}
}
