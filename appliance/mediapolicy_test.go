package appliance_test

import (
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance"
)

// TestArchive_PolicyRefusalFailsAtOnce: links refused by the media policy
// (here: a host not in media_hosts) are refreshed once from the media
// endpoint; when the fresh links are refused too the task fails for good at
// its first attempt, with the reason in the archive.failed alert, instead of
// max_attempts later (issue 18 #7).
func TestArchive_PolicyRefusalFailsAtOnce(t *testing.T) {
	fake := newFakeNylas(t)
	fake.add("ntPolicy1", "grant-1", meetingFiles(t, 4096, "video/mp4"))
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) {
		a.Fetcher.Hosts = []string{"storage.nylas.example"}
	}, func(app *archiveApp) {
		app.Pool.DeadLetterAlert = (&appliance.Alerter{DB: app.DB, Logger: app.Server.Logger}).DeadLetter
	})
	if status, _ := app.postSigned(t, fake.mediaNotification("n-policy", "ntPolicy1", "grant-1", "available", "mp4", allKinds...)); status != 200 {
		t.Fatalf("webhook status %d", status)
	}
	waitFor(t, "the archive task to be dead-lettered", func() bool {
		task, err := app.DB.Task("archive/ntPolicy1")
		return err == nil && task.Dead
	})
	task, _ := app.DB.Task("archive/ntPolicy1")
	if task.Attempts != 1 {
		t.Errorf("dead-lettered after %d attempts, want 1", task.Attempts)
	}
	fake.mu.Lock()
	calls, hits := len(fake.mediaCalls), len(fake.storageHits)
	fake.mu.Unlock()
	if calls != 1 {
		t.Errorf("media endpoint asked %d times, want once for fresh links", calls)
	}
	if hits != 0 {
		t.Errorf("%d requests reached the refused storage host", hits)
	}
	alerts, _ := app.DB.Alerts()
	if len(alerts) != 1 || alerts[0].Kind != "archive.failed" || !strings.Contains(alerts[0].Message, "media_hosts") {
		t.Fatalf("alerts %+v, want one archive.failed naming the policy", alerts)
	}
}
