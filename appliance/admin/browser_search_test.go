package admin_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/notekeeper/notekeeper/appliance/admin/admintest"
)

// searchAndPlay searches the meetings from the list's search box, opens
// the Acme hit, and checks the page highlights the transcript line and that
// the <video> plays the recording through its signed /files link: a 206
// (Range) answer is seen and the element reaches HAVE_CURRENT_DATA.
func searchAndPlay(t *testing.T, b *admintest.Browser, base, acme, artifacts string) {
	var partial atomic.Int32 // 206 answers for the recording
	b.OnResponse(func(ev *network.EventResponseReceived) {
		if strings.Contains(ev.Response.URL, "/files/"+acme+"/recording.mp4?") && ev.Response.Status == 206 {
			partial.Add(1)
		}
	})
	b.Run(t, chromedp.Navigate(base+"/admin/meetings"), chromedp.WaitVisible(`input[name="q"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="q"]`, "terms", chromedp.ByQuery),
		chromedp.Click(`form.filters button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.meetings mark`, chromedp.ByQuery))
	page := b.Text(t, "main")
	for _, want := range []string{"matching “terms”", "Acme renewal call", "Globex kickoff", "Jo Park", "at 00:00:04", "renewal terms"} {
		if !strings.Contains(page, want) {
			t.Errorf("search results lack %q:\n%s", want, page)
		}
	}
	if mark := b.Text(t, "table.meetings mark"); mark != "terms" {
		t.Errorf("the marked word is %q", mark)
	}
	b.Screenshot(t, artifacts, "search.png")
	if os.Getenv("NOTEKEEPER_DOCS_SCREENSHOT") != "" { // refresh docs/admin.png and docs/admin-meeting.png
		b.Screenshot(t, filepath.Join("..", "..", "docs"), "admin.png")
	}

	b.Run(t, chromedp.Click(`tr[id="m-`+acme+`"] a.title`, chromedp.ByQuery), chromedp.WaitVisible(".line.hit", chromedp.ByQuery))
	if hit := b.Text(t, ".line.hit"); !strings.Contains(hit, "Jo Park:") || !strings.Contains(hit, "renewal terms") {
		t.Errorf("highlighted line %q", hit)
	}
	if mark := b.Text(t, ".line.hit mark"); mark != "terms" {
		t.Errorf("marked in the transcript: %q", mark)
	}
	var src, poster string
	var ok bool
	b.Run(t, chromedp.AttributeValue(".player video", "src", &src, &ok, chromedp.ByQuery),
		chromedp.AttributeValue(".player video", "poster", &poster, &ok, chromedp.ByQuery))
	if !strings.HasPrefix(src, "/files/"+acme+"/recording.mp4?exp=") || !strings.Contains(src, "&sig=") || !strings.HasPrefix(poster, "/files/"+acme+"/thumbnail.png?exp=") {
		t.Fatalf("player src %q poster %q: not signed /files links", src, poster)
	}
	// Start it as a person would (muted, so autoplay rules allow it), then
	// wait until it has data to show.
	var ready int
	deadline := time.Now().Add(20 * time.Second)
	b.Run(t, chromedp.Evaluate(`(() => { const v = document.querySelector(".player video"); v.muted = true; v.play().catch(() => {}); return true })()`, nil))
	for {
		b.Run(t, chromedp.Evaluate(`document.querySelector(".player video").readyState`, &ready))
		if ready >= 2 && partial.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("video readyState %d, %d partial (206) answers for the recording", ready, partial.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A timestamp seeks the recording (player.js): line 2 starts at 0:04.
	b.Run(t, chromedp.Click(".line.hit a.ts", chromedp.ByQuery))
	var at float64
	for deadline := time.Now().Add(10 * time.Second); ; {
		b.Run(t, chromedp.Evaluate(`document.querySelector(".player video").currentTime`, &at))
		if at >= 3.5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a click on [00:00:04] the video is at %.2f s", at)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Screenshot(t, artifacts, "meeting-player.png")
	if os.Getenv("NOTEKEEPER_DOCS_SCREENSHOT") != "" {
		b.Screenshot(t, filepath.Join("..", "..", "docs"), "admin-meeting.png")
	}
}
