package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/config"
)

// The webhook destination and its secrets live in files, not in the store:
// `notekeeper webhook …` runs while the daemon holds the store's lock.
// datadir.WebhookFile names this appliance's destination;
// datadir.PreviousWebhookFile keeps a rotated-out secret and until when it is
// still accepted.

// secretRefresh is how often a running daemon re-reads its webhook secrets
// (files written by webhook create/rotate-secret, or by hand).
const secretRefresh = 2 * time.Second

// splitPath is filepath.Split without the trailing separator.
func splitPath(path string) (dir, name string) {
	dir, name = filepath.Split(path)
	return filepath.Clean(dir), name
}

// webhookTriggers are the notification types notekeeper subscribes to.
var webhookTriggers = []string{
	"notetaker.media", "notetaker.meeting_state", "notetaker.created", "notetaker.updated", "notetaker.deleted",
	"booking.created", "booking.rescheduled", "booking.cancelled", "grant.expired", "grant.updated",
}

// webhookState is the content of webhook.json.
type webhookState struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// previousSecret is the content of webhook-previous.json.
type previousSecret struct {
	Secret string    `json:"secret"`
	Until  time.Time `json:"until"`
}

// readJSONFile decodes dataDir/name into v; a missing file is (false, nil).
func readJSONFile(dataDir, name string, v any) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	return true, nil
}

// writeJSONFile writes v to dataDir/name atomically, 0600, owned like
// dataDir (see matchOwner).
func writeJSONFile(dataDir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := datadir.WriteFileAtomic(dataDir, name, append(b, '\n')); err != nil {
		return err
	}
	return matchOwner(filepath.Join(dataDir, name))
}

// matchOwner gives path the owner of its directory when running as root:
// `sudo notekeeper webhook …` must leave files the service's (dynamic)
// user can read.
func matchOwner(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}

// destinationID returns the recorded destination ID, "" when none.
func destinationID(dataDir string) (string, error) {
	var st webhookState
	if _, err := readJSONFile(dataDir, datadir.WebhookFile, &st); err != nil {
		return "", err
	}
	return st.ID, nil
}

// secretFile is where `webhook create` and `rotate-secret` write the secret:
// the first `file:` entry of [nylas] webhook_secrets with an absolute path
// (a relative one is a read-only systemd credential).
func secretFile(cfg config.Config) (string, error) {
	for _, s := range cfg.Nylas.WebhookSecrets {
		if p, ok := strings.CutPrefix(s.Ref(), "file:"); ok && filepath.IsAbs(p) {
			return p, nil
		}
	}
	return "", errors.New(`nylas.webhook_secrets has no "file:/absolute/path" entry to store the secret in; ` +
		`add one, e.g. "file:/var/lib/notekeeper/webhook-secret"`)
}

// acceptedSecrets resolves the configured webhook secrets anew (files may
// have changed) and adds a rotated-out secret still inside its grace
// period. A secret that no longer resolves keeps its last value.
func acceptedSecrets(refs []config.Secret, dataDir string, now time.Time) []string {
	var out []string
	for _, s := range refs {
		c := s
		if err := c.Resolve(); err != nil || c.Value() == "" {
			c = s
		}
		if v := c.Value(); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	var prev previousSecret
	if ok, _ := readJSONFile(dataDir, datadir.PreviousWebhookFile, &prev); ok && now.Before(prev.Until) && prev.Secret != "" &&
		!slices.Contains(out, prev.Secret) {
		out = append(out, prev.Secret)
	}
	return out
}
