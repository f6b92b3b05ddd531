package admintest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// actionTimeout bounds each Run and each Download.
const actionTimeout = 30 * time.Second

// Browser is one Chromium tab that answers HTTP Basic challenges with the
// credentials it holds, and saves downloads into its download directory.
//
// Authentication goes through the DevTools fetch domain: with
// HandleAuthRequests, Chromium stops at each 401 + WWW-Authenticate and asks
// us, and we answer ContinueWithAuth with the user and password — the same
// challenge → credentials → retry path a person's browser takes. Sending an
// Authorization header up front (network extra headers) would skip the
// challenge, so the 401 path would go untested. A second challenge for the
// same request means the credentials were refused: we cancel it, and the
// browser shows the 401 page, as it does after a person presses Cancel.
type Browser struct {
	ctx       context.Context
	downloads string
	user, pw  atomic.Pointer[string]
	status    sync.Map // URL → last HTTP status of a document response
	onResp    atomic.Pointer[func(*network.EventResponseReceived)]
}

// NewBrowser starts Chromium at execPath (see Chromium) with one tab and
// no credentials (see Login). The browser is closed at the test's cleanup.
func NewBrowser(tb testing.TB, execPath string) *Browser {
	tb.Helper()
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
	tb.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &Browser{ctx: ctx, downloads: tb.TempDir()}
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
			if fn := b.onResp.Load(); fn != nil {
				(*fn)(ev)
			}
		}
	})
	b.Login("", "")
	err := chromedp.Run(ctx,
		network.Enable(),
		fetch.Enable().WithHandleAuthRequests(true).WithPatterns([]*fetch.RequestPattern{{URLPattern: "*"}}),
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(b.downloads).WithEventsEnabled(true),
	)
	if err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return b
}

// exec runs a DevTools command from an event listener (which must not block).
func (b *Browser) exec(a chromedp.Action) {
	c := chromedp.FromContext(b.ctx)
	_ = a.Do(cdp.WithExecutor(b.ctx, c.Target))
}

// OnResponse sets a function called (from the event loop: it must not
// block) with every HTTP response the tab receives, media included.
func (b *Browser) OnResponse(fn func(*network.EventResponseReceived)) { b.onResp.Store(&fn) }

// Login sets the credentials the next challenges are answered with.
func (b *Browser) Login(user, password string) { b.user.Store(&user); b.pw.Store(&password) }

// Status is the HTTP status of the last document response from url, and
// whether there was one.
func (b *Browser) Status(url string) (int64, bool) {
	st, ok := b.status.Load(url)
	if !ok {
		return 0, false
	}
	return st.(int64), true
}

// Run runs actions with a deadline, failing the test on an error.
func (b *Browser) Run(tb testing.TB, actions ...chromedp.Action) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		tb.Fatal(err)
	}
}

// Screenshot saves the whole page as dir/name (0600).
func (b *Browser) Screenshot(tb testing.TB, dir, name string) {
	tb.Helper()
	var png []byte
	b.Run(tb, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// Text is the visible text of the first element matching the CSS selector sel.
func (b *Browser) Text(tb testing.TB, sel string) string {
	tb.Helper()
	var s string
	b.Run(tb, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// Download clicks the first element matching the CSS selector sel, waits
// (bounded) until Chromium has saved the download it starts with the
// suggested file name name, and returns the saved bytes.
func (b *Browser) Download(tb testing.TB, sel, name string) []byte {
	tb.Helper()
	done := make(chan string, 1)
	var guid atomic.Value
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			if ev.SuggestedFilename == name {
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
	b.Run(tb, chromedp.Click(sel, chromedp.ByQuery))
	select {
	case g := <-done:
		data, err := os.ReadFile(filepath.Join(b.downloads, g))
		if err != nil {
			tb.Fatal(err)
		}
		return data
	case <-time.After(actionTimeout):
		tb.Fatalf("the download of %s did not complete", name)
		return nil
	}
}
