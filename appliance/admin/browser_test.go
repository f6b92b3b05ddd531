package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
)

// chromiumPath finds Debian's chromium. Under CI (CI=true) a missing
// browser fails the test; elsewhere the test is skipped.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (CI=true): apt-get install chromium")
	}
	t.Skip("chromium is not installed; the browser test runs in CI")
	return ""
}

// artifactsDir is where screenshots go: $NOTEKEEPER_ARTIFACTS, else a
// temporary directory (logged).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("NOTEKEEPER_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// browserSession is one Chromium tab that answers HTTP Basic challenges
// with the credentials it holds.
//
// Authentication goes through the DevTools fetch domain: with
// HandleAuthRequests, Chromium stops at each 401 + WWW-Authenticate and asks
// us, and we answer ContinueWithAuth with the user and password — the same
// challenge → credentials → retry path a person's browser takes. Sending an
// Authorization header up front (network extra headers) would skip the
// challenge, so the 401 path would go untested. A second challenge for the
// same request means the credentials were refused: we cancel it, and the
// browser shows the 401 page, as it does after a person presses Cancel.
type browserSession struct {
	ctx      context.Context
	user, pw atomic.Pointer[string]
	status   sync.Map // URL → last HTTP status of a document response
}

func newBrowser(t *testing.T, execPath, downloads string) *browserSession {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browserSession{ctx: ctx}
	tried := sync.Map{} // request IDs already answered with credentials
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			go b.exec(fetch.ContinueRequest(ev.RequestID))
		case *fetch.EventAuthRequired:
			resp := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
			if _, again := tried.LoadOrStore(ev.RequestID, true); !again {
				resp = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: *b.user.Load(), Password: *b.pw.Load()}
			}
			go b.exec(fetch.ContinueWithAuth(ev.RequestID, resp))
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				b.status.Store(ev.Response.URL, ev.Response.Status)
			}
		}
	})
	b.login("", "")
	err := chromedp.Run(ctx,
		network.Enable(),
		fetch.Enable().WithHandleAuthRequests(true).WithPatterns([]*fetch.RequestPattern{{URLPattern: "*"}}),
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(downloads).WithEventsEnabled(true),
	)
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// exec runs a DevTools command from an event listener (which must not block).
func (b *browserSession) exec(a chromedp.Action) {
	c := chromedp.FromContext(b.ctx)
	_ = a.Do(cdp.WithExecutor(b.ctx, c.Target))
}

// login sets the credentials the next challenges are answered with.
func (b *browserSession) login(user, password string) { b.user.Store(&user); b.pw.Store(&password) }

// run runs actions with a deadline.
func (b *browserSession) run(t *testing.T, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// screenshot saves the whole page as dir/name.
func (b *browserSession) screenshot(t *testing.T, dir, name string) {
	t.Helper()
	var png []byte
	b.run(t, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o600); err != nil {
		t.Fatal(err)
	}
}

// text is the visible text of the first element matching sel.
func (b *browserSession) text(t *testing.T, sel string) string {
	t.Helper()
	var s string
	b.run(t, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// TestBrowser drives the admin UI in Chromium against a whole appliance:
// real store, receiver, workers, archive and CRM delivery, with stand-ins
// for Nylas and the CRM on loopback.
func TestBrowser(t *testing.T) {
	execPath := chromiumPath(t)
	artifacts := artifactsDir(t)
	downloads := t.TempDir()

	ny, crm := newNylasStandIn(t), newCRMStandIn(t)
	const (
		acme, acmeEvent     = "nt7Hq2LmZ", "7kq2c1vdd0l3o9n3h2"
		globex, globexEvent = "ntGlobex42", "evt-globex-kickoff"
		lobby               = "ntLobby9Xq"
	)
	acmeFiles := ny.addMeeting(t, acme, acmeEvent, "Acme renewal call", 200<<10)
	ny.addMeeting(t, globex, globexEvent, "Globex kickoff", 90<<10)
	crm.setFailing(acme, true) // Acme's delivery dead-letters until the CRM is fixed
	a := openApp(t, ny.api.URL, crm.srv.URL)

	a.post(t, ny.mediaAvailable(acme, acmeEvent))
	a.post(t, ny.mediaAvailable(globex, globexEvent))
	a.post(t, envelope("n-lobby", "notetaker.meeting_state", map[string]any{"id": lobby, "grant_id": "grant-a1b2c3",
		"object": "notetaker", "state": "failed_entry", "status": "failed_entry", "meeting_state": "admission_timeout",
		"meeting_provider": "Google Meet", "meeting_link": "https://meet.google.com/abc-defg-hij",
		"event": map[string]string{"event_id": "evt-lobby"}}))
	crmKey := appliance.TaskCRM + "/" + acme
	waitFor(t, "Acme's CRM delivery to dead-letter", func() bool {
		task, err := a.DB.Task(crmKey)
		return err == nil && task.Dead
	})
	waitFor(t, "Globex in the CRM", func() bool { return crm.recordFor(globex) != "" })
	waitFor(t, "the other tasks to finish", func() bool {
		tasks, err := a.DB.Tasks()
		return err == nil && len(tasks) == 1
	})

	b := newBrowser(t, execPath, downloads)
	base := a.Server.URL()

	// A wrong password is refused: the browser ends on the 401 page.
	t.Run("wrong password", func(t *testing.T) {
		b.login(testUser, "not the password")
		b.run(t, chromedp.Navigate(base+"/admin/meetings"))
		if st, _ := b.status.Load(base + "/admin/meetings"); st != int64(401) {
			t.Fatalf("status %v, want 401", st)
		}
		if body := b.text(t, "body"); strings.Contains(body, acme) || !strings.Contains(body, "unauthorized") {
			t.Fatalf("page after a wrong password: %q", body)
		}
		b.screenshot(t, artifacts, "wrong-password.png")
	})

	b.login(testUser, testPassword)
	t.Run("meetings", func(t *testing.T) {
		b.run(t, chromedp.Navigate(base+"/admin/meetings"), chromedp.WaitVisible("table.meetings", chromedp.ByQuery))
		if st, _ := b.status.Load(base + "/admin/meetings"); st != int64(200) {
			t.Fatalf("status %v, want 200", st)
		}
		page := b.text(t, "table.meetings")
		for _, want := range []string{acme, globex, lobby, "event " + acmeEvent, "media available", "5/5", "dead letter", "delivered", "failed_entry", "admission_timeout"} {
			if !strings.Contains(page, want) {
				t.Errorf("meetings page lacks %q:\n%s", want, page)
			}
		}
		b.screenshot(t, artifacts, "meetings.png")
		b.run(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		b.screenshot(t, artifacts, "meetings-phone.png")
		b.run(t, chromedp.EmulateReset(), chromedp.EmulateViewport(1280, 860))
	})

	t.Run("meeting and download", func(t *testing.T) {
		b.run(t, chromedp.Click(`a[href="/admin/meetings/`+acme+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible("pre.transcript", chromedp.ByQuery))
		page := b.text(t, "main")
		for _, want := range []string{"recording.mp4", "transcript.txt", "Jo wants to renew for two years.", "Send the renewal quote", "notetaker.media", "dead letter"} {
			if !strings.Contains(page, want) {
				t.Errorf("meeting page lacks %q", want)
			}
		}
		b.screenshot(t, artifacts, "meeting.png")

		done := make(chan string, 1)
		var guid atomic.Value
		ctx, cancel := context.WithCancel(b.ctx)
		defer cancel()
		chromedp.ListenTarget(ctx, func(ev any) {
			switch ev := ev.(type) {
			case *browser.EventDownloadWillBegin:
				if ev.SuggestedFilename == "recording.mp4" {
					guid.Store(ev.GUID)
				}
			case *browser.EventDownloadProgress:
				if g, _ := guid.Load().(string); ev.GUID == g && ev.State == browser.DownloadProgressStateCompleted {
					select {
					case done <- g:
					default:
					}
				}
			}
		})
		var href string
		var ok bool
		b.run(t, chromedp.AttributeValue(`a.download[href*="/recording.mp4?"]`, "href", &href, &ok, chromedp.ByQuery))
		if !ok || !strings.HasPrefix(href, base+"/files/"+acme+"/recording.mp4?exp=") || !strings.Contains(href, "&sig=") {
			t.Fatalf("recording link %q is not a signed /files link", href)
		}
		b.run(t, chromedp.Click(`a.download[href*="/recording.mp4?"]`, chromedp.ByQuery))
		var got []byte
		select {
		case g := <-done:
			var err error
			if got, err = os.ReadFile(filepath.Join(downloads, g)); err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the download did not complete")
		}
		sum := sha256.Sum256(got)
		if want := acmeFiles["recording"].sha256(); hex.EncodeToString(sum[:]) != want || len(got) != len(acmeFiles["recording"].data) {
			t.Fatalf("downloaded %d bytes sha256 %x, want %d bytes %s", len(got), sum, len(acmeFiles["recording"].data), want)
		}
	})

	t.Run("retry a dead letter", func(t *testing.T) {
		row := `tr[id="task-` + crmKey + `"]`
		b.run(t, chromedp.Navigate(base+"/admin/deliveries"), chromedp.WaitVisible(row, chromedp.ByQuery))
		if text := b.text(t, row); !strings.Contains(text, "dead letter") || !strings.Contains(text, "400") {
			t.Fatalf("dead-letter row: %q", text)
		}
		b.screenshot(t, artifacts, "deliveries-dead-letter.png")

		crm.setFailing(acme, false) // the CRM is fixed
		// The POST answers 303 to the deliveries page, where the row is no
		// longer a dead letter (it is queued, running, or already gone).
		b.run(t, chromedp.Click(row+` button`, chromedp.ByQuery), chromedp.WaitNotPresent(`tr.dead[id="task-`+crmKey+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible("main h1", chromedp.ByQuery))
		var loc string
		b.run(t, chromedp.Location(&loc))
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
		b.run(t, chromedp.Reload(), chromedp.WaitVisible("main", chromedp.ByQuery))
		if text := b.text(t, "main"); strings.Contains(text, acme) || !strings.Contains(text, "every delivery is done") {
			t.Fatalf("deliveries after the retry: %q", text)
		}
		b.screenshot(t, artifacts, "deliveries-after-retry.png")
		b.run(t, chromedp.Navigate(base+"/admin/meetings/"+acme), chromedp.WaitVisible("main", chromedp.ByQuery))
		if text := b.text(t, "main"); !strings.Contains(text, "CRM: delivered") {
			t.Fatalf("meeting after the retry: %q", text)
		}
	})

	t.Run("overview", func(t *testing.T) {
		b.run(t, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible("main", chromedp.ByQuery))
		text := strings.ToLower(b.text(t, "main")) // headings are upper-cased by the stylesheet
		for _, want := range []string{"ready", "disk free", "webhook destination", "dead letters"} {
			if !strings.Contains(text, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
		b.screenshot(t, artifacts, "overview.png")
	})
}
