package appliance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/notekeeper/notekeeper/appliance"
)

func TestSignatureVector(t *testing.T) {
	var v struct {
		Secret    string `json:"secret"`
		Body      string `json:"body"`
		Signature string `json:"x-nylas-signature"`
	}
	if err := json.Unmarshal(fixture(t, "signature-vector.json"), &v); err != nil {
		t.Fatal(err)
	}
	if got := appliance.Sign(v.Secret, []byte(v.Body)); got != v.Signature {
		t.Fatalf("Sign = %s, want %s", got, v.Signature)
	}
	cases := []struct {
		name    string
		secrets []string
		body    string
		sig     string
		want    bool
	}{
		{"vector", []string{v.Secret}, v.Body, v.Signature, true},
		{"vector upper-case hex", []string{v.Secret}, v.Body, strings.ToUpper(v.Signature), true},
		{"second of two secrets (rotation)", []string{"old-secret", v.Secret}, v.Body, v.Signature, true},
		{"first of two secrets (rotation)", []string{v.Secret, "new-secret"}, v.Body, v.Signature, true},
		{"wrong secret", []string{"nope"}, v.Body, v.Signature, false},
		{"no secrets", nil, v.Body, v.Signature, false},
		{"empty secret ignored", []string{""}, v.Body, appliance.Sign("", []byte(v.Body)), false},
		{"body with trailing newline", []string{v.Secret}, v.Body + "\n", v.Signature, false},
		{"one flipped hex digit", []string{v.Secret}, v.Body, "b" + v.Signature[1:], false},
		{"truncated", []string{v.Secret}, v.Body, v.Signature[:63], false},
		{"not hex", []string{v.Secret}, v.Body, strings.Repeat("zz", 32), false},
		{"empty", []string{v.Secret}, v.Body, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := appliance.NewVerifier(tc.secrets...).Verify([]byte(tc.body), tc.sig); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVerifier_SetSecretsSwaps(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	v := appliance.NewVerifier("a")
	v.SetSecrets("b")
	if v.Verify(body, appliance.Sign("a", body)) || !v.Verify(body, appliance.Sign("b", body)) {
		t.Fatal("SetSecrets did not replace the secret set")
	}
}

func TestWebhook_BadRequests(t *testing.T) {
	app := openApp(t, false)
	valid := compact(t, fixture(t, "notetaker-media-available.json"))
	big := append([]byte(`{"id":"big","type":"notetaker.media","pad":"`), bytes.Repeat([]byte("x"), testMaxBody)...)
	big = append(big, `"}`...)
	bomb := append([]byte(`{"id":"bomb","type":"x","pad":"`), bytes.Repeat([]byte("0"), 4*testMaxBody)...)
	bomb = append(bomb, `"}`...)
	sig := func(b []byte) string { return appliance.Sign(testSecret, b) }

	cases := []struct {
		name       string
		method     string
		body       []byte
		header     map[string]string
		chunked    bool // send without Content-Length
		want       int
		quarantine bool
	}{
		{name: "no signature", body: valid, want: 401},
		{name: "empty signature", body: valid, header: map[string]string{"X-Nylas-Signature": ""}, want: 401},
		{name: "unknown secret", body: valid, header: map[string]string{"X-Nylas-Signature": appliance.Sign("other", valid)}, want: 401},
		{name: "signature not hex", body: valid, header: map[string]string{"X-Nylas-Signature": strings.Repeat("g", 64)}, want: 401},
		{name: "signature truncated", body: valid, header: map[string]string{"X-Nylas-Signature": sig(valid)[:40]}, want: 401},
		{name: "body tampered after signing", body: bytes.Replace(valid, []byte("available"), []byte("availablE"), 1),
			header: map[string]string{"X-Nylas-Signature": sig(valid)}, want: 401},
		{name: "gzip signed over the decompressed bytes", body: gzipped(valid),
			header: map[string]string{"X-Nylas-Signature": sig(valid), "Content-Encoding": "gzip"}, want: 401},
		{name: "too large, signed", body: big, header: map[string]string{"X-Nylas-Signature": sig(big)}, want: 413},
		{name: "too large beats bad signature", body: big, header: map[string]string{"X-Nylas-Signature": "00"}, want: 413},
		{name: "too large without Content-Length", body: big, chunked: true, header: map[string]string{"X-Nylas-Signature": "00"}, want: 413},
		{name: "gzip inflating past the bound", body: gzipped(bomb),
			header: map[string]string{"X-Nylas-Signature": sig(gzipped(bomb)), "Content-Encoding": "gzip"}, want: 413},
		{name: "signed, not JSON", body: []byte("hello"), want: 400, quarantine: true},
		{name: "signed, JSON array", body: []byte(`[{"id":"a","type":"b"}]`), want: 400, quarantine: true},
		{name: "signed, JSON null", body: []byte(`null`), want: 400, quarantine: true},
		{name: "signed, truncated JSON", body: valid[:len(valid)/2], want: 400, quarantine: true},
		{name: "signed, id missing", body: []byte(`{"type":"notetaker.media"}`), want: 400, quarantine: true},
		{name: "signed, id a number", body: []byte(`{"id":42,"type":"notetaker.media"}`), want: 400, quarantine: true},
		{name: "signed, id empty", body: []byte(`{"id":"","type":"notetaker.media"}`), want: 400, quarantine: true},
		{name: "signed, id too long", body: []byte(`{"id":"` + strings.Repeat("a", 600) + `","type":"x"}`), want: 400, quarantine: true},
		{name: "signed, type missing", body: []byte(`{"id":"n1"}`), want: 400, quarantine: true},
		{name: "signed, type not a string", body: []byte(`{"id":"n1","type":{"a":1}}`), want: 400, quarantine: true},
		{name: "signed, corrupt gzip", body: []byte("not gzip at all"),
			header: map[string]string{"Content-Encoding": "gzip"}, want: 400, quarantine: true},
		{name: "signed, unsupported encoding", body: valid, header: map[string]string{"Content-Encoding": "br"}, want: 400, quarantine: true},
		{name: "PUT", method: "PUT", body: valid, want: 405},
		{name: "DELETE", method: "DELETE", want: 405},
		{name: "PATCH", method: "PATCH", body: valid, want: 405},
	}
	quarantined := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			header := map[string]string{}
			if method == "POST" {
				header["X-Nylas-Signature"] = sig(tc.body) // overridden below where the case says
			}
			for k, v := range tc.header {
				header[k] = v
			}
			if _, ok := tc.header["X-Nylas-Signature"]; !ok && tc.want == 401 {
				delete(header, "X-Nylas-Signature")
			}
			var body interface {
				Read([]byte) (int, error)
			} = bytes.NewReader(tc.body)
			if tc.chunked {
				body = struct{ *bytes.Reader }{bytes.NewReader(tc.body)} // hides Len: no Content-Length
			}
			req, _ := http.NewRequest(method, app.Server.URL()+"/webhooks/nylas", body)
			for k, v := range header {
				req.Header.Set(k, v)
			}
			status, resp := do(t, req)
			if status != tc.want {
				t.Fatalf("status %d (%s), want %d", status, strings.TrimSpace(resp), tc.want)
			}
			if tc.quarantine {
				quarantined++
			}
			qs, _ := app.DB.QuarantinedRequests()
			if len(qs) != quarantined {
				t.Fatalf("%d quarantined, want %d", len(qs), quarantined)
			}
			if n, _ := app.DB.CountNotifications(); n != 0 {
				t.Fatalf("a bad request stored a notification")
			}
		})
	}
}

func TestWebhook_KnownTypeWithOddObjectStoredWithError(t *testing.T) {
	app := openApp(t, false)
	for i, body := range []string{
		`{"id":"odd-1","type":"notetaker.media"}`,
		`{"id":"odd-2","type":"notetaker.media","data":"x"}`,
		`{"id":"odd-3","type":"notetaker.media","data":{"object":[1]}}`,
		`{"id":"odd-4","type":"booking.created","data":{"object":{"booking_id":7}}}`,
	} {
		if status, resp := app.postSigned(t, []byte(body)); status != 200 {
			t.Fatalf("%s: status %d %s", body, status, resp)
		}
		n, err := app.DB.Notification(uint64(i + 1))
		if err != nil || n.Error == "" {
			t.Fatalf("%s: stored %+v, %v; want a recorded processing error", body, n, err)
		}
	}
	if tasks, _ := app.DB.Tasks(); len(tasks) != 0 {
		t.Fatalf("odd notifications queued tasks: %+v", tasks)
	}
}

func TestWebhook_AcceptsEveryFixture(t *testing.T) {
	app := openApp(t, false)
	fixtures := []struct {
		file string
		task string
	}{
		{"notetaker-created.json", "notetaker/nt7Hq2LmZ"},
		{"notetaker-deleted.json", "notetaker/nt7Hq2LmZ"},
		{"notetaker-media-available.json", "notetaker/nt7Hq2LmZ"},
		{"notetaker-media-processing.json", "notetaker/nt7Hq2LmZ"},
		{"notetaker-meeting-state-attending.json", "notetaker/nt7Hq2LmZ"},
		{"notetaker-meeting-state-failed-entry.json", "notetaker/nt7Hq2LmZ"},
		{"booking-created.json", "booking/bkg-5521"},
		{"booking-rescheduled.json", "booking/bkg-5521"},
		{"booking-cancelled.json", "booking/bkg-5521"},
		{"grant-expired.json", "grant/grant-a1b2c3"},
	}
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			body := fixture(t, f.file) // as pretty-printed on disk: the raw bytes are what is signed
			status, resp := app.postSigned(t, body)
			if status != 200 {
				t.Fatalf("status %d: %s", status, resp)
			}
			var receipt appliance.Receipt
			if err := json.Unmarshal([]byte(resp), &receipt); err != nil || receipt.Duplicate || receipt.ID == "" {
				t.Fatalf("receipt %s (%v)", resp, err)
			}
			if _, err := app.DB.Task(f.task); err != nil {
				t.Fatalf("task %s: %v", f.task, err)
			}
		})
	}
	if n, _ := app.DB.CountNotifications(); n != len(fixtures) {
		t.Fatalf("%d stored, want %d", n, len(fixtures))
	}
}

func TestWebhook_GzipAndRotationAccepted(t *testing.T) {
	app := openApp(t, false)
	body := compact(t, fixture(t, "notetaker-created.json"))
	gz := gzipped(body)
	status, _ := app.post(t, gz, map[string]string{
		"X-Nylas-Signature": appliance.Sign(testSecret, gz), "Content-Encoding": "gzip"})
	if status != 200 {
		t.Fatalf("gzip: status %d", status)
	}
	n, err := app.DB.Notification(1)
	if err != nil || !bytes.Equal(n.Body, body) || n.Encoding != "gzip" {
		t.Fatalf("stored %q (%v), want the decompressed body", n.Body, err)
	}
	other := compact(t, fixture(t, "grant-expired.json"))
	if status, _ := app.post(t, other, map[string]string{"X-Nylas-Signature": appliance.Sign(rotatedSecret, other)}); status != 200 {
		t.Fatalf("second secret: status %d", status)
	}
}

func TestWebhook_TypeSuffixesRouteLikeBase(t *testing.T) {
	app := openApp(t, false)
	for i, typ := range []string{"notetaker.media.truncated", "notetaker.media.transformed", "notetaker.media.transformed.truncated"} {
		body := fmt.Sprintf(`{"id":"sfx-%d","type":%q,"data":{"object":{"id":"ntSfx%d"}}}`, i, typ, i)
		if status, _ := app.postSigned(t, []byte(body)); status != 200 {
			t.Fatalf("%s: status %d", typ, status)
		}
		if _, err := app.DB.Task(fmt.Sprintf("notetaker/ntSfx%d", i)); err != nil {
			t.Fatalf("%s not routed: %v", typ, err)
		}
	}
	if status, _ := app.postSigned(t, []byte(`{"id":"unk","type":"message.created","data":{"object":{"id":"m1"}}}`)); status != 200 {
		t.Fatal("unknown type not acknowledged")
	}
	if tasks, _ := app.DB.Tasks(); len(tasks) != 3 {
		t.Fatalf("%d tasks, want 3 (unknown types imply none)", len(tasks))
	}
}

func TestWebhook_DuplicatesConcurrentStoredOnce(t *testing.T) {
	app := openApp(t, false)
	body := compact(t, fixture(t, "notetaker-media-available.json"))
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Go(func() { statuses[i], _ = app.postSigned(t, body) })
	}
	wg.Wait()
	for _, s := range statuses {
		if s != 200 {
			t.Fatalf("statuses %v, want all 200", statuses)
		}
	}
	if n, _ := app.DB.CountNotifications(); n != 1 {
		t.Fatalf("%d stored, want 1", n)
	}
	tasks, _ := app.DB.Tasks()
	if len(tasks) != 1 || len(tasks[0].Refs) != 1 {
		t.Fatalf("tasks %+v, want one with one ref", tasks)
	}
}

func TestWebhook_StoreUnavailableIs503(t *testing.T) {
	app := openApp(t, false)
	app.DB.Close()
	status, _ := app.postSigned(t, compact(t, fixture(t, "grant-expired.json")))
	if status != 503 {
		t.Fatalf("status %d, want 503", status)
	}
	// A signed bad body that cannot be quarantined is also worth a retry.
	if status, _ := app.postSigned(t, []byte("not json")); status != 503 {
		t.Fatalf("quarantine failure: status %d, want 503", status)
	}
}

func TestChallenge(t *testing.T) {
	app := openApp(t, false)
	cases := []struct {
		name  string
		query string
		want  int
		body  string
	}{
		{"plain", "challenge=abc123", 200, "abc123"},
		{"url-decoded", "challenge=" + url.QueryEscape("a b&c=d/é<>"), 200, "a b&c=d/é<>"},
		{"missing", "", 400, ""},
		{"empty", "challenge=", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(app.Server.URL() + "/webhooks/nylas?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != 200 {
				return
			}
			if buf.String() != tc.body {
				t.Fatalf("body %q, want %q", buf.String(), tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("Content-Type %q", ct)
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(tc.body)) {
				t.Fatalf("Content-Length %q, want %d", cl, len(tc.body))
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	app := openApp(t, false)
	free := uint64(10 << 30)
	app.Server.Checks = []appliance.Check{
		{Name: "store", Fn: app.DB.Ping},
		appliance.DiskCheck(t.TempDir(), 2<<30, func(string) (uint64, error) { return free, nil }),
	}
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", app.Server.URL()+path, nil)
		return do(t, req)
	}
	if s, _ := get("/healthz"); s != 200 {
		t.Fatalf("healthz %d", s)
	}
	if s, b := get("/readyz"); s != 200 {
		t.Fatalf("readyz %d: %s", s, b)
	}
	free = 1 << 30
	if s, b := get("/readyz"); s != 503 || !strings.Contains(b, "disk: 1.0 GiB free") {
		t.Fatalf("readyz with low disk: %d %q", s, b)
	}
	app.DB.Close()
	if s, b := get("/readyz"); s != 503 || !strings.Contains(b, "store:") {
		t.Fatalf("readyz with closed store: %d %q", s, b)
	}
	if s, _ := get("/healthz"); s != 200 {
		t.Fatalf("healthz must stay 200 while the process runs, got %d", s)
	}
}
