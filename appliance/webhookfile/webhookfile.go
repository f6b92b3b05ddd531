// Package webhookfile keeps this appliance's Nylas webhook destination and
// its secrets in files of the data dir, not in the store: `notekeeper
// webhook …` runs while the daemon holds the store's lock.
// datadir.WebhookFile names the destination (Destination);
// datadir.PreviousWebhookFile keeps a rotated-out secret and until when it
// is still accepted (Previous); the secret itself is the first line of a
// file [nylas] webhook_secrets names (WriteSecret).
//
// Files are written atomically, 0600, and owned like their directory when
// written as root, so the service's (dynamic) user can read what `sudo
// notekeeper webhook …` wrote.
package webhookfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// Triggers are the notification types notekeeper subscribes to.
var Triggers = []string{
	"notetaker.media", "notetaker.meeting_state", "notetaker.created", "notetaker.updated", "notetaker.deleted",
	"booking.created", "booking.rescheduled", "booking.cancelled", "grant.expired", "grant.updated",
}

// Destination is the content of webhook.json.
type Destination struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// Previous is the content of webhook-previous.json: a rotated-out secret.
type Previous struct {
	Secret string    `json:"secret"`
	Until  time.Time `json:"until"`
}

// DestinationID returns the recorded destination ID, "" when none.
func DestinationID(dataDir string) (string, error) {
	var d Destination
	if _, err := readJSON(dataDir, datadir.WebhookFile, &d); err != nil {
		return "", err
	}
	return d.ID, nil
}

// WriteDestination records d as this appliance's destination.
func WriteDestination(dataDir string, d Destination) error {
	return writeJSON(dataDir, datadir.WebhookFile, d)
}

// WritePrevious records a rotated-out secret accepted until p.Until.
func WritePrevious(dataDir string, p Previous) error {
	return writeJSON(dataDir, datadir.PreviousWebhookFile, p)
}

// Accepted is current (the configured secrets' values, in order) plus a
// rotated-out secret still inside its grace period at now, without
// duplicates or empty values.
func Accepted(current []string, dataDir string, now time.Time) []string {
	var out []string
	for _, v := range current {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	var prev Previous
	if ok, _ := readJSON(dataDir, datadir.PreviousWebhookFile, &prev); ok && now.Before(prev.Until) && prev.Secret != "" &&
		!slices.Contains(out, prev.Secret) {
		out = append(out, prev.Secret)
	}
	return out
}

// WriteSecret stores a secret as the first line of path (0600).
func WriteSecret(path, secret string) error {
	if secret == "" {
		return errors.New("the Nylas answer holds no webhook secret")
	}
	dir, name := datadir.SplitPath(path)
	if err := datadir.WriteFileAtomic(dir, name, []byte(secret+"\n")); err != nil {
		return err
	}
	return matchOwner(path)
}

// readJSON decodes dataDir/name into v; a missing file is (false, nil).
func readJSON(dataDir, name string, v any) (bool, error) {
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

// writeJSON writes v to dataDir/name atomically, 0600, owned like dataDir.
func writeJSON(dataDir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := datadir.WriteFileAtomic(dataDir, name, append(b, '\n')); err != nil {
		return err
	}
	return matchOwner(filepath.Join(dataDir, name))
}

// matchOwner gives path the owner of its directory when running as root.
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
