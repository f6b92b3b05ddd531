package webhookfile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// ErrNoDestination: no destination is recorded in the data dir.
var ErrNoDestination = errors.New("no webhook destination recorded; run notekeeper webhook create")

// Recorded returns the recorded destination ID, or ErrNoDestination.
func Recorded(dataDir string) (string, error) {
	id, err := DestinationID(dataDir)
	if err == nil && id == "" {
		err = ErrNoDestination
	}
	return id, err
}

// Create subscribes url to Triggers at Nylas (which sends its challenge to
// url before answering: the appliance must be running), writes the secret
// to secretFile and records the destination in dataDir. It refuses when a
// destination is already recorded.
func Create(ctx context.Context, c *nylas.Client, dataDir, url, secretFile string, now time.Time) (*nylas.Webhook, error) {
	if id, err := DestinationID(dataDir); err != nil {
		return nil, err
	} else if id != "" {
		return nil, fmt.Errorf("webhook destination %s is already recorded in %s/%s; use rotate-secret, or delete it at Nylas and remove that file",
			id, dataDir, datadir.WebhookFile)
	}
	wh, err := c.CreateWebhook(ctx, nylas.WebhookCreate{TriggerTypes: Triggers, WebhookURL: url, Description: "notekeeper"})
	if err != nil {
		return nil, err
	}
	if err := WriteSecret(secretFile, wh.WebhookSecret); err != nil {
		return nil, fmt.Errorf("destination %s created, but its secret could not be stored (rotate it): %w", wh.ID, err)
	}
	return wh, WriteDestination(dataDir, Destination{ID: wh.ID, URL: url, CreatedAt: now.UTC()})
}

// Rotate has Nylas issue a new secret for the recorded destination and
// writes it to secretFile; old (the secret in use) stays accepted until
// now+grace, recorded before Nylas switches (at once, no overlap). It
// returns the destination's ID and until when old is accepted.
func Rotate(ctx context.Context, c *nylas.Client, dataDir, secretFile, old string, grace time.Duration, now time.Time) (string, time.Time, error) {
	id, err := Recorded(dataDir)
	if err != nil {
		return "", time.Time{}, err
	}
	until := now.Add(grace).UTC()
	if err := WritePrevious(dataDir, Previous{Secret: old, Until: until}); err != nil {
		return "", time.Time{}, err
	}
	wh, err := c.RotateWebhookSecret(ctx, id)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := WriteSecret(secretFile, wh.WebhookSecret); err != nil {
		return "", time.Time{}, fmt.Errorf("secret rotated at Nylas but not stored: %w", err)
	}
	return id, until, nil
}

// MissingTriggers lists the Triggers that have lacks.
func MissingTriggers(have []string) []string {
	missing := []string{}
	for _, t := range Triggers {
		if !slices.Contains(have, t) {
			missing = append(missing, t)
		}
	}
	return missing
}
