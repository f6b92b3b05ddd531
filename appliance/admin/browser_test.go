package admin_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/notekeeper/notekeeper/appliance/admin/admintest"
	"github.com/notekeeper/notekeeper/appliance/archive/archivetest"
	"github.com/notekeeper/notekeeper/store"
)

// TestBrowser drives the admin UI in Chromium against a whole appliance:
// real store, receiver, workers, archive and CRM delivery, with stand-ins
// for Nylas and the CRM on loopback.
func TestBrowser(t *testing.T) {
	execPath := admintest.Chromium(t)
	artifacts := admintest.ArtifactsDir(t)

	ny, crm := newNylasStandIn(t), newCRMStandIn(t)
	const (
		acme, acmeEvent     = "nt7Hq2LmZ", "7kq2c1vdd0l3o9n3h2"
		globex, globexEvent = "ntGlobex42", "evt-globex-kickoff"
		lobby               = "ntLobby9Xq"
	)
	acmeFiles := ny.addMeeting(t, acme, acmeEvent, "Acme renewal call", 0) // a real MP4: the player plays it
	ny.addMeeting(t, globex, globexEvent, "Globex kickoff", 90<<10)
	crm.setFailing(acme, true) // Acme's delivery dead-letters until the CRM is fixed
	a := openApp(t, ny.api.URL, crm.srv.URL)

	a.post(t, ny.mediaAvailable(acme, acmeEvent))
	a.post(t, ny.mediaAvailable(globex, globexEvent))
	a.post(t, envelope("n-lobby", "notetaker.meeting_state", map[string]any{"id": lobby, "grant_id": "grant-a1b2c3",
		"object": "notetaker", "state": "failed_entry", "status": "failed_entry", "meeting_state": "admission_timeout",
		"meeting_provider": "Google Meet", "meeting_link": "https://meet.google.com/abc-defg-hij",
		"event": map[string]string{"event_id": "evt-lobby"}}))
	crmKey := store.TaskRef{Kind: store.TaskCRM, Subject: acme}.Key()
	waitFor(t, "Acme's CRM delivery to dead-letter", func() bool {
		task, err := a.DB.Task(crmKey)
		return err == nil && task.Dead
	})
	waitFor(t, "Globex in the CRM", func() bool { return crm.recordFor(globex) != "" })
	waitFor(t, "the other tasks to finish", func() bool {
		tasks, err := a.DB.Tasks()
		return err == nil && len(tasks) == 1
	})

	b := admintest.NewBrowser(t, execPath)
	base := a.Server.URL()

	// A wrong password is refused: the browser ends on the 401 page.
	t.Run("wrong password", func(t *testing.T) {
		b.Login(testUser, "not the password")
		b.Run(t, chromedp.Navigate(base+"/admin/meetings"))
		if st, _ := b.Status(base + "/admin/meetings"); st != 401 {
			t.Fatalf("status %v, want 401", st)
		}
		if body := b.Text(t, "body"); strings.Contains(body, acme) || !strings.Contains(body, "unauthorized") {
			t.Fatalf("page after a wrong password: %q", body)
		}
		b.Screenshot(t, artifacts, "wrong-password.png")
	})

	b.Login(testUser, testPassword)
	t.Run("meetings", func(t *testing.T) {
		b.Run(t, chromedp.Navigate(base+"/admin/meetings"), chromedp.WaitVisible("table.meetings", chromedp.ByQuery))
		if st, _ := b.Status(base + "/admin/meetings"); st != 200 {
			t.Fatalf("status %v, want 200", st)
		}
		page := b.Text(t, "table.meetings")
		for _, want := range []string{acme, globex, lobby, "Acme renewal call", "Globex kickoff", "Mon 2 Mar 2026", "15:00–15:30 UTC",
			"Sarah Kim, Jo Park, Li Wu", "Finished", "Archived", "dead letter", "delivered",
			"Never got in", "nobody let it in from the lobby", "Nothing will be delivered"} {
			if !strings.Contains(page, want) {
				t.Errorf("meetings page lacks %q:\n%s", want, page)
			}
		}
		for _, unwanted := range []string{"attending", "recording_active", "after the archive"} {
			if strings.Contains(page, unwanted) {
				t.Errorf("meetings page says %q", unwanted)
			}
		}
		b.Screenshot(t, artifacts, "meetings.png")
		b.Run(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		b.Screenshot(t, artifacts, "meetings-phone.png")
		b.Run(t, chromedp.EmulateReset(), chromedp.EmulateViewport(1280, 860))
	})

	t.Run("meeting and download", func(t *testing.T) {
		b.Run(t, chromedp.Click(`a[href="/admin/meetings/`+acme+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible("div.transcript", chromedp.ByQuery))
		page := b.Text(t, "main")
		for _, want := range []string{"recording.mp4", "transcript.txt", "Jo wants to renew for two years.", "Send the renewal quote", "notetaker.media", "dead letter"} {
			if !strings.Contains(page, want) {
				t.Errorf("meeting page lacks %q", want)
			}
		}
		b.Screenshot(t, artifacts, "meeting.png")

		var href string
		var ok bool
		b.Run(t, chromedp.AttributeValue(`a.download[href*="/recording.mp4?"]`, "href", &href, &ok, chromedp.ByQuery))
		if !ok || !strings.HasPrefix(href, base+"/files/"+acme+"/recording.mp4?exp=") || !strings.Contains(href, "&sig=") {
			t.Fatalf("recording link %q is not a signed /files link", href)
		}
		got := b.Download(t, `a.download[href*="/recording.mp4?"]`, "recording.mp4")
		sum := sha256.Sum256(got)
		if want := acmeFiles["recording"].sha256(); hex.EncodeToString(sum[:]) != want || len(got) != len(acmeFiles["recording"].data) {
			t.Fatalf("downloaded %d bytes sha256 %x, want %d bytes %s", len(got), sum, len(acmeFiles["recording"].data), want)
		}
	})

	t.Run("search, open the hit, play", func(t *testing.T) {
		searchAndPlay(t, b, base, acme, artifacts)
	})

	t.Run("export", func(t *testing.T) {
		b.Run(t, chromedp.Navigate(base+"/admin/meetings/"+acme), chromedp.WaitVisible(`a.button[href$="/export"]`, chromedp.ByQuery))
		tgz := b.Download(t, `a.button[href$="/export"]`, "notekeeper-"+acme+".tar.gz")
		report := archivetest.Check(t, bytes.NewReader(tgz), acme)
		for _, want := range []string{"manifest.json: OK", "recording.mp4: OK", "transcript.txt: OK"} {
			if !strings.Contains(report, want) {
				t.Errorf("sha256sum -c did not report %q:\n%s", want, report)
			}
		}
	})

	t.Run("retry a dead letter", func(t *testing.T) {
		row := `tr[id="task-` + crmKey + `"]`
		b.Run(t, chromedp.Navigate(base+"/admin/deliveries"), chromedp.WaitVisible(row, chromedp.ByQuery))
		if text := b.Text(t, row); !strings.Contains(text, "dead letter") || !strings.Contains(text, "400") {
			t.Fatalf("dead-letter row: %q", text)
		}
		b.Screenshot(t, artifacts, "deliveries-dead-letter.png")

		crm.setFailing(acme, false) // the CRM is fixed
		// The POST answers 303 to the deliveries page, where the row is no
		// longer a dead letter (it is queued, running, or already gone).
		b.Run(t, chromedp.Click(row+` button`, chromedp.ByQuery), chromedp.WaitNotPresent(`tr.dead[id="task-`+crmKey+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible("main h1", chromedp.ByQuery))
		var loc string
		b.Run(t, chromedp.Location(&loc))
		if loc != base+"/admin/deliveries" {
			t.Fatalf("after Retry the browser is at %q", loc)
		}
		waitFor(t, "the retried delivery", func() bool {
			_, err := a.DB.Task(crmKey)
			return errors.Is(err, store.ErrNotFound)
		})
		if crm.recordFor(acme) == "" {
			t.Fatal("the CRM has no record of the Acme meeting")
		}
		b.Run(t, chromedp.Reload(), chromedp.WaitVisible("main", chromedp.ByQuery))
		if text := b.Text(t, "main"); strings.Contains(text, acme) || !strings.Contains(text, "every delivery is done") {
			t.Fatalf("deliveries after the retry: %q", text)
		}
		b.Screenshot(t, artifacts, "deliveries-after-retry.png")
		b.Run(t, chromedp.Navigate(base+"/admin/meetings/"+acme), chromedp.WaitVisible("main", chromedp.ByQuery))
		if text := b.Text(t, "main"); !strings.Contains(text, "CRM: delivered") {
			t.Fatalf("meeting after the retry: %q", text)
		}
	})

	t.Run("overview", func(t *testing.T) {
		b.Run(t, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible("main", chromedp.ByQuery))
		text := strings.ToLower(b.Text(t, "main")) // headings are upper-cased by the stylesheet
		for _, want := range []string{"ready", "disk free", "webhook destination", "dead letters"} {
			if !strings.Contains(text, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
		b.Screenshot(t, artifacts, "overview.png")
	})
}
