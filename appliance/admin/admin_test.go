package admin_test

import (
	"cmp"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// seededUI is the admin UI alone, over a store holding one archived meeting
// and one dead letter.
type seededUI struct {
	DB  *store.DB
	URL string
}

const seedID = "ntSeed01"

func openSeededUI(t *testing.T, users map[string]string) *seededUI {
	t.Helper()
	db := storetest.MustOpen(t)
	dataDir := filepath.Dir(db.Path)
	dir, err := archive.MediaDir(dataDir, seedID)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"recording.mp4":     "not really a video",
		"summary.json":      `{"summary":"Quarterly review with Initech."}`,
		"action_items.json": `["Send the deck"]`,
		"transcript.txt":    "[00:00:01] Jo: <b>hello</b> & welcome\n",
	} {
		if err := datadir.WriteFileAtomic(dir, name, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if err := archive.WriteManifest(dir, &archive.Manifest{NotetakerID: seedID, Files: map[string]archive.FileEntry{
		"recording.mp4": {Bytes: 18, SHA256: "ab", ContentType: "video/mp4", ArchivedAt: now},
		"summary.json":  {Bytes: 42, SHA256: "cd", ContentType: "application/json", ArchivedAt: now},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err = db.UpdateNotetaker(seedID, func(nt *store.Notetaker) error {
		nt.State, nt.MediaStatus, nt.ArchiveDone = "available", "available", true
		nt.DeletesAt = now.Add(10 * 24 * time.Hour)
		nt.Archived = map[string]store.ArchivedFile{
			"recording":    {Name: "recording.mp4"},
			"summary":      {Name: "summary.json"},
			"action_items": {Name: "action_items.json"},
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deadLetter(t, db, store.TaskRef{Kind: store.TaskCRM, Subject: seedID}, "crm: 400 deal pipeline is locked")
	ui, err := admin.New(admin.Config{DB: db, Users: users, DataDir: dataDir, Logger: quiet,
		Links: &links.Signer{Key: []byte("0123456789abcdef"), BaseURL: "https://notes.example.com", TTL: time.Hour, Now: time.Now}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	return &seededUI{DB: db, URL: srv.URL}
}

// deadLetter puts ref in the queue and dead-letters it, as the pool does
// after a permanent failure.
func deadLetter(t *testing.T, db *store.DB, ref store.TaskRef, msg string) {
	t.Helper()
	if err := db.Enqueue(ref); err != nil {
		t.Fatal(err)
	}
	leased, _, err := db.Lease(1, time.Minute)
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease: %v %v", leased, err)
	}
	if err := db.Fail(leased[0], msg, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// request is one request to the UI; user "" sends no credentials.
type request struct {
	method, path   string
	user, password string
	form           url.Values
	header         map[string]string
}

// do sends rq without following redirects and returns the answer and its body.
func (u *seededUI) do(t *testing.T, rq request) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	req, err := http.NewRequest(cmp.Or(rq.method, "GET"), u.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.user != "" {
		req.SetBasicAuth(rq.user, rq.password)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// get is an authenticated GET.
func (u *seededUI) get(t *testing.T, path string) (*http.Response, string) {
	return u.do(t, request{path: path, user: testUser, password: testPassword})
}

var csrfValue = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// token reads the CSRF token from the deliveries page.
func (u *seededUI) token(t *testing.T) string {
	t.Helper()
	_, body := u.get(t, "/admin/deliveries")
	m := csrfValue.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in the deliveries page:\n%s", body)
	}
	return m[1]
}

func TestAuth(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	for _, tc := range []struct {
		name           string
		user, password string
		want           int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"unknown user", "mallory", testPassword, http.StatusUnauthorized},
		{"wrong password", testUser, "Tr0ub4dor&3", http.StatusUnauthorized},
		{"empty password", testUser, "", http.StatusUnauthorized},
		{"right password", testUser, testPassword, http.StatusOK},
		{"right password again (cached)", testUser, testPassword, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ui.do(t, request{path: "/admin/meetings", user: tc.user, password: tc.password})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == http.StatusUnauthorized {
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
				if strings.Contains(body, seedID) {
					t.Errorf("a refused request shows data: %s", body)
				}
			} else if !strings.Contains(body, seedID) {
				t.Errorf("meetings page does not list %s", seedID)
			}
		})
	}
}

func TestNoUsersMeansNoUI(t *testing.T) {
	ui := openSeededUI(t, nil)
	for _, path := range []string{"/admin/", "/admin/meetings", "/admin/admin.css"} {
		resp, body := ui.do(t, request{path: path, user: testUser, password: testPassword})
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no [admin] users") {
			t.Errorf("%s: %d %q, want 404 naming [admin] users", path, resp.StatusCode, body)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no security headers", path)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	tok := ui.token(t)
	for _, tc := range []struct {
		name string
		rq   request
		want int
	}{
		{"overview", request{path: "/admin/", user: testUser, password: testPassword}, 200},
		{"meeting", request{path: "/admin/meetings/" + seedID, user: testUser, password: testPassword}, 200},
		{"stylesheet", request{path: "/admin/admin.css", user: testUser, password: testPassword}, 200},
		{"refused", request{path: "/admin/"}, 401},
		{"unknown page", request{path: "/admin/nope", user: testUser, password: testPassword}, 404},
		{"post without token", request{method: "POST", path: "/admin/deliveries/retry", user: testUser, password: testPassword, form: url.Values{"key": {"crm/" + seedID}}}, 403},
		{"post redirect", request{method: "POST", path: "/admin/meetings/" + seedID + "/hold", user: testUser, password: testPassword, form: url.Values{"csrf": {tok}, "hold": {"on"}}}, 303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := ui.do(t, tc.rq)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			for k, want := range map[string]string{
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"Cache-Control":          "no-store",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
				}
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	tok := ui.token(t)
	key := "crm/" + seedID
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"missing token", url.Values{"key": {key}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"key": {key}, "csrf": {strings.Repeat("0", len(tok))}}, nil, http.StatusForbidden},
		{"altered token", url.Values{"key": {key}, "csrf": {tok[1:] + "0"}}, nil, http.StatusForbidden},
		{"cross-site fetch", url.Values{"key": {key}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", url.Values{"key": {key}, "csrf": {tok}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin with token", url.Values{"key": {key}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := ui.DB.Task(key)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := ui.do(t, request{method: "POST", path: "/admin/deliveries/retry", user: testUser, password: testPassword, form: tc.form, header: tc.header})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			after, err := ui.DB.Task(key)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == http.StatusForbidden && (!after.Dead || !after.UpdatedAt.Equal(before.UpdatedAt)) {
				t.Fatalf("a refused POST changed the task: %+v", after)
			}
		})
	}
}

func TestRetryPOST(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	tok := ui.token(t)
	for _, tc := range []struct {
		name, key string
		want      int
	}{
		{"unknown task", "crm/ntNobody", http.StatusNotFound},
		{"not a task key", "nonsense", http.StatusNotFound},
		{"control characters", "crm/a\x00b", http.StatusNotFound},
		{"dead letter", "crm/" + seedID, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ui.do(t, request{method: "POST", path: "/admin/deliveries/retry", user: testUser, password: testPassword,
				form: url.Values{"key": {tc.key}, "csrf": {tok}}})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != http.StatusSeeOther {
				return
			}
			if loc := resp.Header.Get("Location"); loc != "/admin/deliveries" {
				t.Errorf("Location %q", loc)
			}
			task, err := ui.DB.Task(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if task.Dead || task.Attempts != 0 || task.NextRun.After(time.Now()) {
				t.Fatalf("task after Retry: %+v, want live and due", task)
			}
		})
	}
}

func TestHoldPOST(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	tok := ui.token(t)
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"place on hold", "on", true},
		{"place on hold twice", "on", true},
		{"release", "off", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ui.do(t, request{method: "POST", path: "/admin/meetings/" + seedID + "/hold", user: testUser, password: testPassword,
				form: url.Values{"hold": {tc.value}, "csrf": {tok}}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/meetings/"+seedID {
				t.Fatalf("status %d Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			nt, err := ui.DB.Notetaker(seedID)
			if err != nil {
				t.Fatal(err)
			}
			if nt.Hold != tc.want {
				t.Fatalf("Hold %v, want %v", nt.Hold, tc.want)
			}
			_, page := ui.get(t, "/admin/meetings/"+seedID)
			if got := strings.Contains(page, "Release hold"); got != tc.want {
				t.Errorf("page offers Release hold: %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBadIDs(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	tok := ui.token(t)
	for _, tc := range []struct {
		name, method, path string
	}{
		{"unknown meeting", "GET", "/admin/meetings/ntNobody"},
		{"traversal", "GET", "/admin/meetings/..%2F..%2Fetc"},
		{"leading dash", "GET", "/admin/meetings/-rf"},
		{"dot in id", "GET", "/admin/meetings/nt.json"},
		{"too long", "GET", "/admin/meetings/" + strings.Repeat("a", 129)},
		{"non-ASCII", "GET", "/admin/meetings/n%C3%A9"},
		{"hold of unknown meeting", "POST", "/admin/meetings/ntNobody/hold"},
		{"hold of unsafe id", "POST", "/admin/meetings/..%2Fx/hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rq := request{method: tc.method, path: tc.path, user: testUser, password: testPassword}
			if tc.method == "POST" {
				rq.form = url.Values{"hold": {"on"}, "csrf": {tok}}
			}
			resp, body := ui.do(t, rq)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", resp.StatusCode, body)
			}
		})
	}
	nts, err := ui.DB.Notetakers()
	if err != nil || len(nts) != 1 {
		t.Fatalf("notetakers %d %v: a POST created a record", len(nts), err)
	}
}

func TestMeetingPage(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	resp, body := ui.get(t, "/admin/meetings/"+seedID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`href="https://notes.example.com/files/ntSeed01/recording.mp4?exp=`, // signed link
		`href="https://notes.example.com/files/ntSeed01/transcript.txt?exp=`,
		"Quarterly review with Initech.",                                                         // summary
		"<li>Send the deck</li>",                                                                 // action items
		`[00:00:01]</a> <span class="speaker">Jo:</span> &lt;b&gt;hello&lt;/b&gt; &amp; welcome`, // transcript, escaped
		"dead letter",
		"9d 23h", // deadline countdown
	} {
		if !strings.Contains(body, want) {
			t.Errorf("meeting page lacks %q", want)
		}
	}
	if strings.Count(body, "<script") != strings.Count(body, `<script src="/admin/player.js" defer></script>`) || strings.Contains(body, " style=") {
		t.Error("meeting page has inline script or style (the CSP forbids them)")
	}
	if !strings.Contains(body, `<video controls preload="metadata" playsinline src="/files/ntSeed01/recording.mp4?exp=`) ||
		!strings.Contains(body, `<script src="/admin/player.js" defer></script>`) {
		t.Error("meeting page has no inline player on the signed link")
	}
}

// TestMeetingPage_FilesInBucket: a file stored in the [archive.s3] bucket
// (its manifest entry names an object) and gone from the local folder still
// gets its signed link; one gone from both is marked "not on disk".
func TestMeetingPage_FilesInBucket(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	dir, err := archive.MediaDir(filepath.Dir(ui.DB.Path), seedID)
	if err != nil {
		t.Fatal(err)
	}
	man, err := archive.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := man.Files["recording.mp4"]
	e.Object = seedID + "/recording.mp4"
	man.Files["recording.mp4"] = e
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"recording.mp4", "summary.json"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	_, body := ui.get(t, "/admin/meetings/"+seedID)
	if !strings.Contains(body, `href="https://notes.example.com/files/ntSeed01/recording.mp4?exp=`) {
		t.Error("a recording stored in the bucket has no signed link")
	}
	if !strings.Contains(body, `summary.json <span class="muted">(not on disk)</span>`) {
		t.Error("a file gone from disk and bucket is not marked")
	}
}

// TestMeetingPage_CRMRecordLink: a delivered meeting links to its record in
// the vendor's UI when the connector could build a URL.
func TestMeetingPage_CRMRecordLink(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	d := &store.CRMDelivery{Connector: "salesforce", RecordID: "00U000000000001AAA", DeliveredAt: time.Now(),
		RecordURL: "https://acme.my.salesforce.com/lightning/r/Event/00U000000000001AAA/view"}
	if err := ui.DB.PutCRMDelivery(seedID, d); err != nil {
		t.Fatal(err)
	}
	_, body := ui.get(t, "/admin/meetings/"+seedID)
	if !strings.Contains(body, `to salesforce · <a href="https://acme.my.salesforce.com/lightning/r/Event/00U000000000001AAA/view" rel="noopener">open the record</a>`) {
		t.Error("meeting page lacks the link to the CRM record")
	}
}

// TestMeetingPage_Followup: the meeting page says what became of the
// follow-up e-mail.
func TestMeetingPage_Followup(t *testing.T) {
	cases := []struct {
		name   string
		record func(db *store.DB)
		want   []string
	}{
		{name: "none recorded", record: func(*store.DB) {}, want: []string{"Follow-up e-mail: <span class=\"muted\">none</span>"}},
		{name: "sent", record: func(db *store.DB) {
			db.FollowupIntent(seedID, "g1", "Notes: Q", []string{"jo@your-company.example"})
			db.FollowupSent(seedID, "m1")
		}, want: []string{"Follow-up e-mail: <span class=\"ok\">sent</span>", "to jo@your-company.example"}},
		{name: "skipped", record: func(db *store.DB) { db.FollowupSkipped(seedID, "no summary") },
			want: []string{"<span class=\"muted\">not sent</span>", "no summary"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ui := openSeededUI(t, testUsers(t))
			tc.record(ui.DB)
			_, body := ui.get(t, "/admin/meetings/"+seedID)
			for _, want := range tc.want {
				if !strings.Contains(body, want) {
					t.Errorf("meeting page lacks %q", want)
				}
			}
		})
	}
}

func TestDeliveries_ListUnmatchedCandidates(t *testing.T) {
	ui := openSeededUI(t, testUsers(t))
	_, err := ui.DB.UpdateATSDelivery("bkg-stranger", func(d *store.ATSDelivery) error {
		d.Connector, d.Unmatched, d.CheckedAt = "lever", true, time.Now()
		d.Candidate.Email = "stranger@elsewhere.example"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ui.DB.UpdateATSDelivery("bkg-known", func(d *store.ATSDelivery) error {
		d.Connector, d.Matched, d.Candidate.Email = "lever", true, "dana@candidates.example"
		return nil
	})
	_, body := ui.get(t, "/admin/deliveries")
	if !strings.Contains(body, `id="unmatched-bkg-stranger"`) || !strings.Contains(body, "stranger@elsewhere.example") ||
		strings.Contains(body, "dana@candidates.example") {
		t.Fatalf("deliveries page does not list exactly the unmatched booking:\n%s", body)
	}
}
