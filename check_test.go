package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	freeAddr := free.Addr().String()
	free.Close()
	running := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
		}
	}))
	defer running.Close()
	openDir := filepath.Join(t.TempDir(), "open")
	os.Mkdir(openDir, 0o755)
	os.Chmod(openDir, 0o755)
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	nylasAPI := nylasStandIn(t)

	cases := []struct {
		name   string
		config string
		want   []string // substrings, one per expected line; nil = "ok"
	}{
		{"all good", fmt.Sprintf("data_dir = %q\n[server]\nlisten = %q\n", filepath.Join(privateDir(t), "new", "data"), freeAddr), nil},
		{"port in use", fmt.Sprintf("data_dir = %q\n[server]\nlisten = %q\n", privateDir(t), busy.Addr().String()),
			[]string{"server.listen: cannot listen on " + busy.Addr().String()}},
		{"data dir open to others is a warning", fmt.Sprintf("data_dir = %q\n[server]\nlisten = %q\n", openDir, freeAddr),
			[]string{"warning: data_dir: " + openDir + " has mode 0755", "ok"}},
		{"data dir is a file", fmt.Sprintf("data_dir = %q\n[server]\nlisten = %q\n", notDir, freeAddr),
			[]string{"data_dir: " + notDir + " is not a directory"}},
		{"domain that does not resolve", fmt.Sprintf("data_dir = %q\n[server]\ndomain = \"notekeeper-check.invalid\"\n[tls]\nhttp_port = %d\nhttps_port = %d\n",
			privateDir(t), freePort(t), freePort(t)),
			[]string{"server.domain: notekeeper-check.invalid does not resolve"}},
		{"https port in use", fmt.Sprintf("data_dir = %q\n[server]\ndomain = \"localhost\"\n[tls]\nhttp_port = %d\nhttps_port = %d\n",
			privateDir(t), freePort(t), busy.Addr().(*net.TCPAddr).Port),
			[]string{"tls.https_port: cannot listen on"}},
		{"port held by a running notekeeper is only a warning", fmt.Sprintf("data_dir = %q\n[server]\nlisten = %q\n", privateDir(t), running.Listener.Addr().String()),
			[]string{"warning: server.listen: " + running.Listener.Addr().String() + " is held by a running notekeeper", "ok"}},
		{"offline skips the domain's DNS", fmt.Sprintf("data_dir = %q\n[server]\ndomain = \"notekeeper-check.invalid\"\n[tls]\nhttp_port = %d\nhttps_port = %d\n",
			privateDir(t), freePort(t), freePort(t)) + "#offline", nil},
		{"wrong Nylas API key is a problem", fmt.Sprintf("data_dir = %q\n[server]\nlisten = %q\n", privateDir(t), freeAddr) + "#nylas-key=wrong",
			[]string{"nylas.api_key: " + nylasAPI + " rejected it"}},
		{"wrong section gets a hint", "[server]\nwebhook_secrets = [\"s\"]\n",
			[]string{`server.webhook_secrets: unknown key (did you mean [nylas] webhook_secrets?)`}},
		{"config problems listed one per line", "[server]\nlistne = \"x\"\n[archive]\nconcurrency = 0\n",
			[]string{`server.listne: unknown key`, "archive.concurrency: must be between 1 and 64"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			cfg := tc.config + "\n[nylas]\napi_base = \"" + nylasAPI + "\"\napi_key = \"k\"\nwebhook_secrets = [\"s\"]\n"
			if strings.HasSuffix(tc.config, "#nylas-key=wrong") {
				cfg = strings.Replace(cfg, `api_key = "k"`, `api_key = "wrong"`, 1)
			}
			os.WriteFile(path, []byte(cfg), 0o600)
			var stdout, stderr bytes.Buffer
			args := []string{"check", "-config", path}
			if strings.HasSuffix(tc.config, "#offline") {
				args = append(args, "-offline")
			}
			err := run(t.Context(), args, &stdout, &stderr)
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if tc.want == nil {
				if err != nil || stdout.String() != "ok\n" {
					t.Fatalf("check: %v, %q", err, stdout.String())
				}
				return
			}
			var ee exitError
			if wantOK := tc.want[len(tc.want)-1] == "ok"; wantOK != (err == nil) || (!wantOK && !errors.As(err, &ee)) {
				t.Fatalf("check returned %v (want success: %v)", err, wantOK)
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("lines %q, want %d", lines, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Fatalf("line %d %q lacks %q", i, lines[i], w)
				}
			}
		})
	}
}

// nylasStandIn answers GET /v3/webhooks for the API key "k" (check's
// probe of the Nylas key) and returns its URL.
func nylasStandIn(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"request_id":"r","error":{"type":"unauthorized","message":"Unauthorized"}}`))
			return
		}
		w.Write([]byte(`{"request_id":"r","data":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// privateDir is a fresh 0700 directory, as notekeeper wants its data dir.
func privateDir(t *testing.T) string {
	d := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCheckExampleOffline runs `check -offline` on config.example.toml with
// the two variables it documents set: a new user's first check passes. Only
// data_dir and server.listen are replaced, by a fresh directory and a free
// port, since a test cannot own /var/lib/notekeeper or port 8080.
func TestCheckExampleOffline(t *testing.T) {
	example, err := os.ReadFile("config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(example)
	for _, r := range []struct{ old, new string }{
		{`data_dir = "/var/lib/notekeeper"`, fmt.Sprintf("data_dir = %q", filepath.Join(privateDir(t), "data"))},
		{`listen = "127.0.0.1:8080"`, fmt.Sprintf("listen = \"127.0.0.1:%d\"", freePort(t))},
	} {
		if !strings.Contains(text, r.old) {
			t.Fatalf("config.example.toml no longer has %s", r.old)
		}
		text = strings.Replace(text, r.old, r.new, 1)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte(text), 0o600)

	t.Setenv("NYLAS_API_KEY", "nyk_example")
	t.Setenv("NYLAS_WEBHOOK_SECRET", "example-secret")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"check", "-offline", "-config", path}, &stdout, &stderr); err != nil || stdout.String() != "ok\n" {
		t.Fatalf("check -offline on config.example.toml: %v\n%s%s", err, stdout.String(), stderr.String())
	}

	// Without them, each line says how to set the variable.
	os.Unsetenv("NYLAS_API_KEY")
	os.Unsetenv("NYLAS_WEBHOOK_SECRET")
	stdout.Reset()
	if err := run(t.Context(), []string{"check", "-offline", "-config", path}, &stdout, &stderr); err == nil {
		t.Fatal("check passed without NYLAS_API_KEY and NYLAS_WEBHOOK_SECRET")
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per variable, got:\n%s", stdout.String())
	}
	for i, name := range []string{"NYLAS_API_KEY", "NYLAS_WEBHOOK_SECRET"} {
		for _, want := range []string{name + " is not set", "systemctl edit notekeeper", "Environment=" + name + "=",
			"EnvironmentFile=/etc/notekeeper/credentials/env",
			"LoadCredential=" + strings.ToLower(name) + ":/etc/notekeeper/credentials/" + strings.ToLower(name), `"file:` + strings.ToLower(name) + `"`} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("line %q lacks %q", lines[i], want)
			}
		}
	}
}
