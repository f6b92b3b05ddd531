package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/notekeeper/notekeeper/appliance/admin/admintest"
	"github.com/notekeeper/notekeeper/appliance/demo"
	"github.com/notekeeper/notekeeper/appliance/demo/demotest"
)

// TestDemoBrowser drives the admin UI of a running `notekeeper demo` (the
// binary, without -once) in Chromium, with the URL and the throw-away
// credentials the demo printed: a wrong password is refused, the right one
// shows the demo's three meetings, the sales meeting's recording downloads
// through its signed link with the sha256 the demo printed, and nothing is
// left in the queue. Screenshots are named demo-*.png.
func TestDemoBrowser(t *testing.T) {
	execPath := needTool(t, "chromium", admintest.ChromiumInstall, admintest.Chromium)
	artifacts := admintest.ArtifactsDir(t)
	out := startDemo(t) // its cleanup stops it and checks it exited 0
	admin := demotest.AdminLine.FindStringSubmatch(out)
	if admin == nil {
		t.Fatalf("no admin line in the demo's output:\n%s", out)
	}
	adminURL, user, password := admin[1], admin[2], admin[3]
	base := strings.TrimSuffix(adminURL, "/admin/")
	sales, interview, lobby := demo.Sales(), demo.Interview(), demo.Lobby()
	recording := demotest.Files(out)[sales.NotetakerID]["recording.mp4"] // "bytes sha256"
	if recording == "" {
		t.Fatalf("the demo printed no recording.mp4 for %s:\n%s", sales.NotetakerID, out)
	}

	b := admintest.NewBrowser(t, execPath)
	meetings := base + "/admin/meetings"

	t.Run("wrong password", func(t *testing.T) {
		b.Login(user, password+"x")
		b.Run(t, chromedp.Navigate(meetings))
		if st, _ := b.Status(meetings); st != 401 {
			t.Fatalf("status %v, want 401", st)
		}
		body := b.Text(t, "body")
		if !strings.Contains(body, "unauthorized") {
			t.Errorf("page after a wrong password: %q", body)
		}
		for _, m := range []*demo.Meeting{sales, interview, lobby} {
			if strings.Contains(body, m.NotetakerID) || strings.Contains(body, m.Title) {
				t.Errorf("the 401 page shows %s", m.NotetakerID)
			}
		}
		b.Screenshot(t, artifacts, "demo-wrong-password.png")
	})

	b.Login(user, password)
	t.Run("meetings", func(t *testing.T) {
		b.Run(t, chromedp.Navigate(meetings), chromedp.WaitVisible("table.meetings", chromedp.ByQuery))
		if st, _ := b.Status(meetings); st != 200 {
			t.Fatalf("status %v, want 200", st)
		}
		rows := []struct {
			name     string
			m        *demo.Meeting
			want     []string
			delivery string // the Delivery column: state and where to
		}{
			{"sales meeting", sales, []string{sales.Title, "Finished", "Archived"}, "delivered\nCRM"},
			{"booked interview", interview, []string{interview.Title, "Finished", "Archived"}, "delivered\nATS"},
			{"bot in the lobby", lobby, []string{"Never got in", "Nothing recorded"}, "Nothing will be delivered\nCRM"}, // no media: nothing to send
		}
		for _, r := range rows {
			row := `table.meetings tr:has(a[href="/admin/meetings/` + r.m.NotetakerID + `"])`
			text := b.Text(t, row)
			for _, want := range append([]string{r.m.NotetakerID}, r.want...) {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the row lacks %q:\n%s", r.name, want, text)
				}
			}
			if d := strings.TrimSpace(b.Text(t, row+" td:nth-child(6)")); d != r.delivery {
				t.Errorf("%s: delivery %q, want %q", r.name, d, r.delivery)
			}
		}
		b.Screenshot(t, artifacts, "demo-meetings.png")
	})

	t.Run("sales meeting and signed download", func(t *testing.T) {
		b.Run(t, chromedp.Click(`a[href="/admin/meetings/`+sales.NotetakerID+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible("div.transcript", chromedp.ByQuery))
		page := b.Text(t, "main")
		for _, want := range []string{"event " + sales.EventID, "recording.mp4", "transcript.txt", sales.Transcript[0].Text, sales.ActionItems[0], "notetaker.media"} {
			if !strings.Contains(page, want) {
				t.Errorf("meeting page lacks %q", want)
			}
		}
		b.Screenshot(t, artifacts, "demo-meeting.png")

		link := `a.download[href*="/recording.mp4?"]`
		var href string
		var ok bool
		b.Run(t, chromedp.AttributeValue(link, "href", &href, &ok, chromedp.ByQuery))
		if !ok || !strings.HasPrefix(href, base+"/files/"+sales.NotetakerID+"/recording.mp4?exp=") || !strings.Contains(href, "&sig=") {
			t.Fatalf("recording link %q is not a signed /files link", href)
		}
		got := b.Download(t, link, "recording.mp4")
		sum := sha256.Sum256(got)
		if g := strconv.Itoa(len(got)) + " " + hex.EncodeToString(sum[:]); g != recording {
			t.Fatalf("downloaded %q (bytes sha256), the demo printed %q", g, recording)
		}
	})

	t.Run("deliveries", func(t *testing.T) {
		b.Run(t, chromedp.Navigate(base+"/admin/deliveries"), chromedp.WaitVisible("main", chromedp.ByQuery))
		var dead []*cdp.Node
		b.Run(t, chromedp.Nodes("tr.dead", &dead, chromedp.ByQueryAll, chromedp.AtLeast(0)))
		if text := b.Text(t, "main"); len(dead) != 0 || !strings.Contains(text, "every delivery is done") {
			t.Fatalf("deliveries after the demo (%d dead letters): %q", len(dead), text)
		}
		b.Screenshot(t, artifacts, "demo-deliveries.png")
	})
}

// startDemo runs `notekeeper demo` until it prints "Serving until Ctrl-C.",
// failing the test if it exits before or does not get there within a
// minute, and returns its output so far. The test's cleanup sends it
// SIGINT (Ctrl-C) and fails the test unless it exits 0 within 40 s.
func startDemo(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary(t), "demo")
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo: %v\n%s", err, stderr)
			}
		case <-time.After(40 * time.Second):
			cmd.Process.Kill()
			t.Errorf("demo did not exit within 40 s of SIGINT")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stdout.String(), "Serving until Ctrl-C.") {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("demo exited before serving: %v\n%s\n%s", err, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not finish its script\n%s\n%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return stdout.String()
}
