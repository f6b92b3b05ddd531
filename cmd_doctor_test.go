package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/config"
)

// Secret values the doctor configs hold; none may appear in its output.
const (
	doctorLiteralKey     = "nylas-LITERAL-key-never-printed"
	doctorLiteralWebhook = "whsec-LITERAL-never-printed"
	doctorEnvValue       = "crm-ENV-value-never-printed"
	doctorFileValue      = "slack-FILE-url-never-printed"
)

// writeDoctorConfig writes a config for dataDir with a secret of every form
// (literal, env:, file:) and a CRM, an alert and the S3 table, and sets the
// environment variable it names.
func writeDoctorConfig(t *testing.T, dataDir string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("NOTEKEEPER_DOCTOR_CRM_KEY", doctorEnvValue)
	slack := filepath.Join(dir, "slack-url")
	if err := os.WriteFile(slack, []byte("https://hooks.slack.example/"+doctorFileValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	cfg := fmt.Sprintf(`data_dir = %q
[server]
listen = "127.0.0.1:0"
[nylas]
api_key = %q
webhook_secrets = [%q]
[archive]
min_free_bytes = 0
[crm]
enabled = true
type = "rest"
base_url = "https://crm.example.com"
api_key = "env:NOTEKEEPER_DOCTOR_CRM_KEY"
[[alert]]
type = "slack"
url = "file:%s"
`, dataDir, doctorLiteralKey, doctorLiteralWebhook, slack)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// assertNoSecret fails when out holds a secret value of writeDoctorConfig.
func assertNoSecret(t *testing.T, out string) {
	t.Helper()
	for _, s := range []string{doctorLiteralKey, doctorLiteralWebhook, doctorEnvValue, doctorFileValue} {
		if strings.Contains(out, s) {
			t.Errorf("doctor printed the secret %q:\n%s", s, out)
		}
	}
}

// assertInOrder fails unless every want is in out, in order.
func assertInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

func TestDoctor_NoDaemon(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	seedStore(t, dataDir)
	out, _, err := runCmd(t, "doctor", "-offline", "-config", writeDoctorConfig(t, dataDir))
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	assertNoSecret(t, out)
	assertInOrder(t, out,
		"version      notekeeper ",
		"data dir     "+dataDir,
		"crm          rest at https://crm.example.com",
		"alerts       1 sinks: slack",
		"secret       nylas.api_key = [literal]",
		"secret       nylas.webhook_secrets[0] = [literal]",
		"secret       archive.s3.access_key = env:S3_ACCESS_KEY_ID (section off: not read)",
		"secret       crm.api_key = env:NOTEKEEPER_DOCTOR_CRM_KEY",
		"secret       alert[0].url = file:",
		"check (as `notekeeper check`", "  ok",
		"port         server.listen 127.0.0.1:0: free",
		"daemon       not running (read from the store)",
		"stored       2 notifications",
		"tasks        0 live, 1 dead-lettered",
		"jobs         last runs are known to the running daemon only",
		"dead letter  notetaker/nt-1 after 1 attempts: permanent: the CRM said 400",
	)
}

func TestDoctor_Daemon(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	path := writeDoctorConfig(t, dataDir)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Open(); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()
	out, _, err := runCmd(t, "doctor", "-offline", "-config", path)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	assertNoSecret(t, out)
	assertInOrder(t, out,
		"secret       crm.api_key = env:NOTEKEEPER_DOCTOR_CRM_KEY",
		"daemon       running since ", m.Server.URL(),
		"ready        yes",
		"tasks        0 live, 0 dead-lettered",
		"job          backup ",
	)
	if strings.Contains(out, "dead letter") || strings.Contains(out, "known to the running daemon only") {
		t.Errorf("doctor with a daemon:\n%s", out)
	}
}

// TestDoctor_Problems: what check refuses is reported; doctor still
// succeeds, having printed its report.
func TestDoctor_Problems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("data_dir = \""+t.TempDir()+"\"\n[nylas]\napi_key = \"env:NOTEKEEPER_DOCTOR_UNSET\"\n[server]\nlisne = \"x\"\n"), 0o600)
	out, _, err := runCmd(t, "doctor", "-offline", "-config", path)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	assertInOrder(t, out, "config       "+path+": not valid", "problem: server.lisne: unknown key")
}

// TestDoctor_FreshInstall: before the first start there is no store; doctor
// says so instead of failing.
func TestDoctor_FreshInstall(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	out, _, err := runCmd(t, "doctor", "-offline", "-config", writeDoctorConfig(t, dataDir))
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	assertInOrder(t, out, "store        "+filepath.Join(dataDir, "notekeeper.db")+" does not exist yet")
}
