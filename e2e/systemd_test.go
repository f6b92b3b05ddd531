package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notifySocket stands in for systemd's $NOTIFY_SOCKET and records messages.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	n := &notifySocket{path: filepath.Join(t.TempDir(), "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

func (n *notifySocket) saw(prefix string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		if strings.HasPrefix(m, prefix) {
			c++
		}
	}
	return c
}

func (n *notifySocket) waitFor(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n.saw(prefix) == 0 {
		if time.Now().After(deadline) {
			n.mu.Lock()
			defer n.mu.Unlock()
			t.Fatalf("no %q from the daemon; got %q", prefix, n.msgs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestE2E_SystemdNotifyWatchdogAndReload(t *testing.T) {
	notify := listenNotify(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EConfig(t, dataDir)
	d := startDaemon(t, config, "NOTIFY_SOCKET="+notify.path, "WATCHDOG_USEC=200000")
	notify.waitFor(t, "READY=1")
	notify.waitFor(t, "WATCHDOG=1")

	// Rotate the webhook secret in the file and reload with SIGHUP.
	cfg, _ := os.ReadFile(config)
	os.WriteFile(config, bytes.Replace(cfg, []byte(e2eSecret), []byte("rotated-secret"), 1), 0o600)
	d.signal(syscall.SIGHUP)
	notify.waitFor(t, "RELOADING=1")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.stderr.String(), "configuration reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload\n%s", d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	post := func(secret string) int { return postSignedWith(t, d.url, secret, "ntf-reload-1") }
	if s := post(e2eSecret); s != 401 {
		t.Fatalf("old secret after reload: %d, want 401", s)
	}
	if s := post("rotated-secret"); s != 200 {
		t.Fatalf("new secret after reload: %d, want 200", s)
	}

	// A broken config on reload is refused; the daemon keeps serving.
	os.WriteFile(config, []byte("nonsense = ["), 0o600)
	d.signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(d.stderr.String(), "reload refused") {
		if time.Now().After(deadline) {
			t.Fatalf("broken config not refused\n%s", d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := post("rotated-secret"); s != 200 {
		t.Fatalf("after a refused reload: %d", s)
	}

	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if notify.saw("STOPPING=1") != 1 {
		t.Fatal("no STOPPING=1")
	}
}

// postSignedWith posts notification id to the daemon at url, signed with
// secret, and returns the status.
func postSignedWith(t *testing.T, url, secret, id string) int {
	t.Helper()
	status, err := postSigned(http.DefaultClient, url, secret, e2eNotification(id, 1))
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// writePreviousSecret leaves in the data dir what `webhook rotate-secret`
// leaves there besides the new secret: webhook-previous.json, the
// rotated-out secret and until when the daemon still accepts it.
func writePreviousSecret(t *testing.T, dataDir, secret string, until time.Time) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"secret": secret, "until": until})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dataDir, ".webhook-previous.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dataDir, "webhook-previous.json")); err != nil { // the daemon never reads half a file
		t.Fatal(err)
	}
}

func TestE2E_DaemonPicksUpRotatedSecret(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dataDir, 0o700)
	secretPath := filepath.Join(dataDir, "webhook-secret")
	os.WriteFile(secretPath, []byte("first-secret\n"), 0o600)
	config := writeConfig(t, strings.Replace(e2eConfig(dataDir), `["`+e2eSecret+`"]`, `["file:`+secretPath+`"]`, 1))
	d := startDaemon(t, config)
	post := func(secret, id string) int { return postSignedWith(t, d.url, secret, id) }
	if s := post("first-secret", "ntf-rot-1"); s != 200 {
		t.Fatalf("first secret: %d", s)
	}
	// What `webhook rotate-secret` leaves behind: the old secret in its grace
	// period, the new one in the file.
	writePreviousSecret(t, dataDir, "first-secret", time.Now().Add(time.Hour))
	os.WriteFile(secretPath, []byte("second-secret\n"), 0o600)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; post("second-secret", fmt.Sprintf("ntf-rot-new-%d", i)) != 200; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("new secret not picked up\n%s", d.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s := post("first-secret", "ntf-rot-old"); s != 200 {
		t.Fatalf("old secret inside its grace period: %d", s)
	}
	// Grace over: only the new secret.
	writePreviousSecret(t, dataDir, "first-secret", time.Now().Add(-time.Second))
	deadline = time.Now().Add(10 * time.Second)
	for post("first-secret", "ntf-rot-expired") != 401 {
		if time.Now().After(deadline) {
			t.Fatal("old secret still accepted after its grace period")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
