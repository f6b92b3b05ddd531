package main

import (
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/webhookfile"
	"github.com/notekeeper/notekeeper/config"
)

// secretRefresh is how often a running daemon re-reads its webhook secrets
// (files written by webhook create/rotate-secret, or by hand).
const secretRefresh = 2 * time.Second

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
	current := make([]string, 0, len(refs))
	for _, s := range refs {
		c := s
		if err := c.Resolve(); err != nil || c.Value() == "" {
			c = s
		}
		current = append(current, c.Value())
	}
	return webhookfile.Accepted(current, dataDir, now)
}
