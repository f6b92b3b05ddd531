package appliance_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// The hostile-input table (issue 18): requests an attacker, a broken proxy or
// a confused client may send to the public listener, each with the status
// docs/http.md gives and what must (not) have been stored, judged in a real bbolt
// store. Requests are written by hand on a raw connection, so that paths,
// headers and bodies reach the server exactly as written.

const (
	hostileNT     = "ntHostile1"
	hostileFile   = "summary.json"
	hostileData   = `{"summary":"the archived summary"}`
	hostileAdmin  = "ops"
	hostilePasswd = "correct horse battery staple"
	deadKey       = "crm/ntDead1"
)

// hostileApp is the server as the daemon runs it: webhook receiver, /files
// over a data dir holding one archived file, /readyz, and the admin UI.
type hostileApp struct {
	DB    *store.DB
	Srv   *appliance.Server
	Links *links.Signer
	Dir   string
}

func openHostile(t *testing.T) *hostileApp {
	t.Helper()
	db := storetest.MustOpen(t)
	dataDir := filepath.Dir(db.Path)
	dir, err := archive.MediaDir(dataDir, hostileNT)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dir, 0o700)
	if err := datadir.WriteFileAtomic(dir, hostileFile, []byte(hostileData)); err != nil {
		t.Fatal(err)
	}
	if err := archive.WriteManifest(dir, &archive.Manifest{NotetakerID: hostileNT, Files: map[string]archive.FileEntry{
		hostileFile: {Bytes: int64(len(hostileData)), SHA256: "x", ContentType: "application/json", ArchivedAt: time.Now()},
	}}); err != nil {
		t.Fatal(err)
	}
	// A dead letter for the admin Retry form.
	db.Enqueue(store.TaskRef{Kind: "crm", Subject: "ntDead1"})
	leased, _, _ := db.Lease(1, time.Minute)
	db.Fail(leased[0], "crm said 400", time.Time{})

	hash, _ := bcrypt.GenerateFromPassword([]byte(hostilePasswd), bcrypt.MinCost)
	ui, err := admin.New(admin.Config{DB: db, Users: map[string]string{hostileAdmin: string(hash)}})
	if err != nil {
		t.Fatal(err)
	}
	signer := &links.Signer{Key: []byte("0123456789abcdef0123456789abcdef"), TTL: time.Hour, Now: time.Now}
	s := appliance.NewServer()
	s.Addr, s.Admin, s.Links, s.DataDir = "127.0.0.1:0", ui, signer, dataDir
	s.Receiver = &appliance.Receiver{DB: db, Verifier: appliance.NewVerifier(testSecret, rotatedSecret),
		MaxBodyBytes: testMaxBody, Logger: s.Logger}
	s.Checks = []appliance.Check{appliance.DiskCheck(dataDir, 1, func(string) (uint64, error) { return 1 << 30, nil })}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	signer.BaseURL = s.URL()
	return &hostileApp{DB: db, Srv: s, Links: signer, Dir: dataDir}
}

// raw is one request as written on the wire.
type raw struct {
	method, target string
	header         []string // "Name: value" lines, in order, repeats allowed
	body           []byte
	chunked        bool // send the body chunked, without Content-Length
	noLength       bool // neither Content-Length nor chunked (a body-less request)
}

// send writes rq on a new connection and reads the answer.
func (a *hostileApp) send(t *testing.T, rq raw) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a.Srv.URL()[len("http://"):], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", rq.method, rq.target, conn.RemoteAddr())
	for _, h := range rq.header {
		b.WriteString(h + "\r\n")
	}
	switch {
	case rq.chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for chunk := range slicesChunk(rq.body, 4096) {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
		}
		b.WriteString("0\r\n\r\n")
	case rq.noLength:
		b.WriteString("\r\n")
	default:
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(rq.body))
		b.Write(rq.body)
	}
	go conn.Write(b.Bytes()) // the server may answer (413) before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: rq.method})
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			c := b[:min(n, len(b))]
			b = b[len(c):]
			if !yield(c) {
				return
			}
		}
	}
}

// counts is what the store holds: notifications, quarantined requests,
// alerts, and whether the dead letter is still dead.
type counts struct {
	stored, quarantined, alerts int
	deadStill                   bool
}

func (a *hostileApp) counts(t *testing.T) counts {
	t.Helper()
	n, err := a.DB.CountNotifications()
	if err != nil {
		t.Fatal(err)
	}
	q, _ := a.DB.QuarantinedRequests()
	al, _ := a.DB.Alerts()
	task, _ := a.DB.Task(deadKey)
	return counts{stored: n, quarantined: len(q), alerts: len(al), deadStill: task != nil && task.Dead}
}

// Request builders.

const okBody = `{"specversion":"1.0","type":"grant.updated","id":"evt-hostile-1","time":1700000000,"data":{"object":{"grant_id":"g1"}}}`

func sig(secret string, body []byte) string {
	return "X-Nylas-Signature: " + appliance.Sign(secret, body)
}

func signed(body string, extra ...string) raw {
	return raw{method: "POST", target: "/webhooks/nylas", body: []byte(body), header: append([]string{sig(testSecret, []byte(body))}, extra...)}
}

func signedBytes(body []byte, extra ...string) raw {
	return raw{method: "POST", target: "/webhooks/nylas", body: body, header: append([]string{sig(testSecret, body)}, extra...)}
}

func withSig(body, signature string) raw {
	return raw{method: "POST", target: "/webhooks/nylas", body: []byte(body), header: []string{"X-Nylas-Signature: " + signature}}
}

func envBody(id, typ string) string {
	return `{"id":"` + id + `","type":"` + typ + `","data":{"object":{"grant_id":"g1","id":"nt1"}}}`
}

func gz(s string) []byte { return gzipped([]byte(s)) }

// bomb is a gzip stream of n zero bytes inside a JSON string.
func bomb(n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	io.WriteString(zw, `{"id":"evt-bomb","type":"grant.updated","pad":"`)
	zw.Write(make([]byte, n))
	io.WriteString(zw, `"}`)
	zw.Close()
	return buf.Bytes()
}

func upper(s string) string { return strings.ToUpper(s) }

// fileTarget is /files/{id}/{name} signed with the server's key for exp
// (signing the unescaped path), with id and name written as given.
func (a *hostileApp) fileTarget(id, name, rawID, rawName string, exp int64, sigCase func(string) string) string {
	e := strconv.FormatInt(exp, 10)
	mac := hmac.New(sha256.New, a.Links.Key)
	mac.Write([]byte("/files/" + id + "/" + name + "\n" + e))
	s := hex.EncodeToString(mac.Sum(nil))
	if sigCase != nil {
		s = sigCase(s)
	}
	return "/files/" + rawID + "/" + rawName + "?exp=" + e + "&sig=" + s
}

var csrfInPage = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the admin form token.
func (a *hostileApp) csrf(t *testing.T) string {
	resp, body := a.send(t, raw{method: "GET", target: "/admin/deliveries", noLength: true, header: []string{adminAuth(hostilePasswd)}})
	m := csrfInPage.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("deliveries page: %d, no token", resp.StatusCode)
	}
	return m[1]
}

func adminAuth(password string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(hostileAdmin+":"+password))
}

func retryForm(token string) []byte {
	return []byte(url.Values{"key": {deadKey}, "csrf": {token}}.Encode())
}

const form = "Content-Type: application/x-www-form-urlencoded"

// hostileCase is one row: build makes the request(s) (several are sent in
// order; the last answer is judged), want is the status, then what the
// store must hold afterwards compared with before.
type hostileCase struct {
	name        string
	build       func(a *hostileApp, t *testing.T) []raw
	want        int
	stored      int  // notifications added
	quarantined int  // quarantined requests added
	alerts      int  // alerts added
	retried     bool // the admin dead letter was retried
	body        func(t *testing.T, got string)
	header      map[string]string // answer headers that must be present with this value
}

func one(r raw) func(*hostileApp, *testing.T) []raw {
	return func(*hostileApp, *testing.T) []raw { return []raw{r} }
}

func bodyIs(want string) func(*testing.T, string) {
	return func(t *testing.T, got string) {
		if got != want {
			t.Errorf("answer body %q, want %q", got, want)
		}
	}
}

func bodyLacks(secret string) func(*testing.T, string) {
	return func(t *testing.T, got string) {
		if strings.Contains(got, secret) {
			t.Errorf("answer body leaks %q: %q", secret, got)
		}
	}
}

func hostileCases() []hostileCase {
	goodSig := appliance.Sign(testSecret, []byte(okBody))
	over := `{"id":"evt-big","type":"grant.updated","pad":"` + strings.Repeat("a", testMaxBody) + `"}`
	past := time.Now().Add(-time.Minute).Unix()
	future := time.Now().Add(time.Hour).Unix()
	getNoBody := func(target string, header ...string) raw {
		return raw{method: "GET", target: target, noLength: true, header: header}
	}
	return []hostileCase{
		// --- signatures (docs/http.md: 401, nothing stored; either hex case) ---
		{name: "signed lowercase hex", build: one(signed(okBody)), want: 200, stored: 1},
		{name: "signed uppercase hex", build: one(withSig(okBody, upper(goodSig))), want: 200, stored: 1},
		{name: "signed mixed-case hex", build: one(withSig(okBody, goodSig[:32]+upper(goodSig[32:]))), want: 200, stored: 1},
		{name: "signed with the rotated secret", build: one(withSig(okBody, appliance.Sign(rotatedSecret, []byte(okBody)))), want: 200, stored: 1},
		{name: "signature padded with spaces", build: one(withSig(okBody, "  "+goodSig+" ")), want: 200, stored: 1},
		{name: "no signature header", build: one(raw{method: "POST", target: "/webhooks/nylas", body: []byte(okBody)}), want: 401},
		{name: "empty signature", build: one(withSig(okBody, "")), want: 401},
		{name: "signature under another secret", build: one(withSig(okBody, appliance.Sign("not-the-secret", []byte(okBody)))), want: 401},
		{name: "signature under an empty key", build: one(withSig(okBody, appliance.Sign("", []byte(okBody)))), want: 401},
		{name: "signature one hex digit short", build: one(withSig(okBody, goodSig[:63])), want: 401},
		{name: "signature one hex digit long", build: one(withSig(okBody, goodSig+"0")), want: 401},
		{name: "signature of non-hex characters", build: one(withSig(okBody, strings.Repeat("z", 64))), want: 401},
		{name: "signature all zeros", build: one(withSig(okBody, strings.Repeat("0", 64))), want: 401},
		{name: "signature with a sha256= prefix", build: one(withSig(okBody, "sha256="+goodSig)), want: 401},
		{name: "signature in base64", build: one(withSig(okBody, base64.StdEncoding.EncodeToString(mustHex(goodSig)))), want: 401},
		{name: "signature of another body", build: one(withSig(strings.Replace(okBody, "g1", "g2", 1), goodSig)), want: 401},
		{name: "signature with one digit flipped", build: one(withSig(okBody, flip(goodSig))), want: 401},
		{name: "bad signature header first, good second", build: one(raw{method: "POST", target: "/webhooks/nylas", body: []byte(okBody),
			header: []string{"X-Nylas-Signature: " + strings.Repeat("0", 64), "X-Nylas-Signature: " + goodSig}}), want: 401},
		{name: "gzip body signed over the inflated bytes", build: one(raw{method: "POST", target: "/webhooks/nylas", body: gz(okBody),
			header: []string{sig(testSecret, []byte(okBody)), "Content-Encoding: gzip"}}), want: 401},
		{name: "gzip body signed over the gzip bytes", build: one(signedBytes(gz(okBody), "Content-Encoding: gzip")), want: 200, stored: 1},
		{name: "GitHub-style signature header only", build: one(raw{method: "POST", target: "/webhooks/nylas", body: []byte(okBody),
			header: []string{"X-Hub-Signature-256: sha256=" + goodSig}}), want: 401},

		// --- sizes and encodings (413 is checked while reading, so it wins) ---
		{name: "body over max_body_bytes, signed", build: one(signed(over)), want: 413},
		{name: "body over max_body_bytes, unsigned", build: one(raw{method: "POST", target: "/webhooks/nylas", body: []byte(over)}), want: 413},
		{name: "body over max_body_bytes, chunked", build: one(raw{method: "POST", target: "/webhooks/nylas", body: []byte(over), chunked: true,
			header: []string{sig(testSecret, []byte(over))}}), want: 413},
		{name: "body at max_body_bytes is read", build: one(signed(`{"id":"evt-edge","type":"grant.updated","pad":"` +
			strings.Repeat("a", testMaxBody-len(`{"id":"evt-edge","type":"grant.updated","pad":""}`)) + `"}`)), want: 200, stored: 1},
		{name: "signed chunked body", build: one(raw{method: "POST", target: "/webhooks/nylas", body: []byte(okBody), chunked: true,
			header: []string{sig(testSecret, []byte(okBody))}}), want: 200, stored: 1},
		{name: "gzip bomb", build: one(signedBytes(bomb(16<<20), "Content-Encoding: gzip")), want: 413},
		{name: "gzip bomb, unsigned", build: one(raw{method: "POST", target: "/webhooks/nylas", body: bomb(16 << 20),
			header: []string{"Content-Encoding: gzip"}}), want: 401},
		{name: "corrupt gzip, signed", build: one(signedBytes(gz(okBody)[:20], "Content-Encoding: gzip")), want: 400, quarantined: 1},
		{name: "plain body labelled gzip, signed", build: one(signed(okBody, "Content-Encoding: gzip")), want: 400, quarantined: 1},
		{name: "unsupported Content-Encoding, signed", build: one(signed(okBody, "Content-Encoding: br")), want: 400, quarantined: 1},
		{name: "Content-Encoding GZIP in capitals", build: one(signedBytes(gz(okBody), "Content-Encoding: GZIP")), want: 200, stored: 1},

		// --- bodies that are not notifications (400, quarantined) ---
		{name: "empty body, signed", build: one(signed("")), want: 400, quarantined: 1},
		{name: "JSON null", build: one(signed("null")), want: 400, quarantined: 1},
		{name: "JSON array", build: one(signed(`[` + okBody + `]`)), want: 400, quarantined: 1},
		{name: "JSON string", build: one(signed(`"evt-1"`)), want: 400, quarantined: 1},
		{name: "truncated JSON", build: one(signed(okBody[:40])), want: 400, quarantined: 1},
		{name: "trailing garbage after the object", build: one(signed(okBody + `x`)), want: 400, quarantined: 1},
		{name: "byte order mark before the object", build: one(signed("\ufeff" + okBody)), want: 400, quarantined: 1},
		{name: "nesting deeper than the decoder allows", build: one(signed(`{"id":"evt-deep","type":"grant.updated","data":` +
			strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)), want: 400, quarantined: 1},
		{name: "id missing", build: one(signed(`{"type":"grant.updated"}`)), want: 400, quarantined: 1},
		{name: "id a number", build: one(signed(`{"id":42,"type":"grant.updated"}`)), want: 400, quarantined: 1},
		{name: "id null", build: one(signed(`{"id":null,"type":"grant.updated"}`)), want: 400, quarantined: 1},
		{name: "id empty", build: one(signed(envBody("", "grant.updated"))), want: 400, quarantined: 1},
		{name: "id over 512 bytes", build: one(signed(envBody(strings.Repeat("i", store.MaxEnvelopeIDLen+1), "grant.updated"))), want: 400, quarantined: 1},
		{name: "id of 512 bytes", build: one(signed(envBody(strings.Repeat("i", store.MaxEnvelopeIDLen), "grant.updated"))), want: 200, stored: 1},
		{name: "type missing", build: one(signed(`{"id":"evt-t"}`)), want: 400, quarantined: 1},
		{name: "type an object", build: one(signed(`{"id":"evt-t","type":{"a":1}}`)), want: 400, quarantined: 1},
		{name: "type empty", build: one(signed(envBody("evt-t", ""))), want: 400, quarantined: 1},
		{name: "id with an invalid UTF-8 byte", build: one(signed(envBody("evt-\xff", "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with an overlong UTF-8 encoding", build: one(signed(envBody("evt-\xc0\xaf", "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a lone surrogate escape", build: one(signed(envBody(`evt-\ud800`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a U+FFFD escape", build: one(signed(envBody(`evt-\ufffd`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with NUL", build: one(signed(envBody(`evt-\u0000`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a newline", build: one(signed(envBody(`evt-\n`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with DEL", build: one(signed(envBody("evt-\x7f", "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a C1 control", build: one(signed(envBody(`evt-\u009b`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a right-to-left override", build: one(signed(envBody(`evt-\u202e`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a bidi isolate", build: one(signed(envBody(`evt-\u2067`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "id with a zero-width space", build: one(signed(envBody(`evt-\u200b`, "grant.updated"))), want: 400, quarantined: 1},
		{name: "type with a right-to-left override", build: one(signed(envBody("evt-t", `grant.\u202eupdated`))), want: 400, quarantined: 1},
		{name: "unicode id (printable)", build: one(signed(envBody("evt-ünïcødé-会議", "grant.updated"))), want: 200, stored: 1},

		// --- notifications that are stored but not (fully) processed ---
		{name: "unknown type", build: one(signed(envBody("evt-u", "calendar.created"))), want: 200, stored: 1},
		{name: "known type without data.object", build: one(signed(`{"id":"evt-n","type":"notetaker.media"}`)), want: 200, stored: 1},
		{name: "known type with data a string", build: one(signed(`{"id":"evt-n","type":"notetaker.media","data":"x"}`)), want: 200, stored: 1},
		{name: "truncated type suffix", build: one(signed(envBody("evt-tr", "grant.updated.truncated"))), want: 200, stored: 1},
		{name: "Notetaker ID with a right-to-left override", build: one(signed(`{"id":"evt-rlo","type":"notetaker.media","data":{"object":{"id":"nt\u202egpj.exe","state":"available"}}}`)),
			want: 200, stored: 1, alerts: 1},
		{name: "Notetaker ID with a control character", build: one(signed(`{"id":"evt-bel","type":"notetaker.updated","data":{"object":{"id":"nt\u0007"}}}`)),
			want: 200, stored: 1, alerts: 1},
		{name: "Notetaker ID with invalid UTF-8", build: one(signed("{\"id\":\"evt-nt-utf8\",\"type\":\"notetaker.updated\",\"data\":{\"object\":{\"id\":\"nt\xff\"}}}")),
			want: 200, stored: 1, alerts: 1},
		{name: "Notetaker ID that climbs out (alerted when processed)", build: one(signed(`{"id":"evt-trav","type":"notetaker.media","data":{"object":{"id":"../../etc","state":"available"}}}`)),
			want: 200, stored: 1},
		{name: "booking ID with a zero-width space", build: one(signed(`{"id":"evt-bk","type":"booking.created","data":{"object":{"booking_id":"b\u200b1"}}}`)),
			want: 200, stored: 1},

		// --- duplicates (deduplicated on the envelope id) ---
		{name: "same notification twice", build: func(*hostileApp, *testing.T) []raw { return []raw{signed(okBody), signed(okBody)} },
			want: 200, stored: 1, body: func(t *testing.T, got string) {
				if !strings.Contains(got, `"duplicate":true`) {
					t.Errorf("second answer %q, want duplicate:true", got)
				}
			}},
		{name: "same id, another body", build: func(*hostileApp, *testing.T) []raw {
			return []raw{signed(envBody("evt-d", "grant.updated")), signed(envBody("evt-d", "grant.expired"))}
		}, want: 200, stored: 1},
		{name: "ids differing only in an invalid byte", build: func(*hostileApp, *testing.T) []raw {
			return []raw{signed(envBody("evt-\xfe", "grant.updated")), signed(envBody("evt-\xff", "grant.updated"))}
		}, want: 400, quarantined: 2},
		{name: "ids differing in case are two", build: func(*hostileApp, *testing.T) []raw {
			return []raw{signed(envBody("evt-Case", "grant.updated")), signed(envBody("evt-case", "grant.updated"))}
		}, want: 200, stored: 2},

		// --- methods and paths on the webhook ---
		{name: "PUT to the webhook", build: one(raw{method: "PUT", target: "/webhooks/nylas", body: []byte(okBody), header: []string{sig(testSecret, []byte(okBody))}}), want: 405},
		{name: "DELETE to the webhook", build: one(raw{method: "DELETE", target: "/webhooks/nylas", noLength: true}), want: 405},
		{name: "PATCH to the webhook", build: one(raw{method: "PATCH", target: "/webhooks/nylas", body: []byte(okBody), header: []string{sig(testSecret, []byte(okBody))}}), want: 405},
		{name: "OPTIONS to the webhook", build: one(raw{method: "OPTIONS", target: "/webhooks/nylas", noLength: true}), want: 405},
		{name: "POST to the webhook with a trailing slash", build: one(raw{method: "POST", target: "/webhooks/nylas/", body: []byte(okBody), header: []string{sig(testSecret, []byte(okBody))}}), want: 404},
		{name: "POST to the webhook in capitals", build: one(raw{method: "POST", target: "/WEBHOOKS/NYLAS", body: []byte(okBody), header: []string{sig(testSecret, []byte(okBody))}}), want: 404},
		{name: "POST through a dot segment", build: one(raw{method: "POST", target: "/x/../webhooks/nylas", body: []byte(okBody), header: []string{sig(testSecret, []byte(okBody))}}), want: 307},

		// --- challenges ---
		{name: "challenge echoed", build: one(getNoBody("/webhooks/nylas?challenge=abc123")), want: 200, body: bodyIs("abc123"),
			header: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "6"}},
		{name: "challenge URL-decoded, not escaped", build: one(getNoBody("/webhooks/nylas?challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E")), want: 200,
			body: bodyIs("<script>alert(1)</script>"), header: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}},
		{name: "challenge with a plus", build: one(getNoBody("/webhooks/nylas?challenge=a+b")), want: 200, body: bodyIs("a b")},
		{name: "challenge missing", build: one(getNoBody("/webhooks/nylas")), want: 400},
		{name: "challenge empty", build: one(getNoBody("/webhooks/nylas?challenge=")), want: 400},
		{name: "challenge given twice: the first", build: one(getNoBody("/webhooks/nylas?challenge=one&challenge=two")), want: 200, body: bodyIs("one")},
		{name: "challenge of 8 KiB", build: one(getNoBody("/webhooks/nylas?challenge=" + strings.Repeat("c", 8<<10))), want: 200, body: bodyIs(strings.Repeat("c", 8<<10))},
		{name: "challenge with a CRLF", build: one(getNoBody("/webhooks/nylas?challenge=a%0d%0aSet-Cookie:%20x=1")), want: 200, body: bodyIs("a\r\nSet-Cookie: x=1"),
			header: map[string]string{"Set-Cookie": ""}},
		{name: "challenge by HEAD", build: one(raw{method: "HEAD", target: "/webhooks/nylas?challenge=abc", noLength: true}), want: 200},
		{name: "challenge stores nothing", build: one(getNoBody("/webhooks/nylas?challenge=x", sig(testSecret, nil))), want: 200, body: bodyIs("x")},

		// --- /files: signed links, path tricks ---
		{name: "file with a valid link", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil))}
		}, want: 200, body: bodyIs(hostileData)},
		{name: "file link with an uppercase sig", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, upper))}
		}, want: 200, body: bodyIs(hostileData)},
		{name: "file range request", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil), "Range: bytes=0-9")}
		}, want: 206, body: bodyIs(hostileData[:10])},
		{name: "file link expired", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, past, nil))}
		}, want: 403, body: bodyLacks("summary")},
		{name: "file link with a wrong sig", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, flip))}
		}, want: 403},
		{name: "file link without sig", build: one(getNoBody("/files/" + hostileNT + "/" + hostileFile + "?exp=9999999999")), want: 403},
		{name: "file link without exp", build: func(a *hostileApp, _ *testing.T) []raw {
			t := a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil)
			return []raw{getNoBody(regexp.MustCompile(`exp=\d+&`).ReplaceAllString(t, ""))}
		}, want: 403},
		{name: "file link with exp moved later", build: func(a *hostileApp, _ *testing.T) []raw {
			t := a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil)
			return []raw{getNoBody(strings.Replace(t, "exp="+strconv.FormatInt(future, 10), "exp="+strconv.FormatInt(future+1, 10), 1))}
		}, want: 403},
		{name: "file link with a non-numeric exp", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(strings.Replace(a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil), "exp=", "exp=x", 1))}
		}, want: 403},
		{name: "file link signed for another file", build: func(a *hostileApp, _ *testing.T) []raw {
			t := a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil)
			return []raw{getNoBody(strings.Replace(t, hostileFile, "manifest.json", 1))}
		}, want: 403},
		{name: "file path with ../ to the store", build: one(getNoBody("/files/../notekeeper.db?exp=9999999999&sig=00")), want: 307, body: bodyLacks("bolt")},
		{name: "file path with %2e%2e to the store", build: one(getNoBody("/files/%2e%2e/notekeeper.db?exp=9999999999&sig=00")), want: 403},
		{name: "file name with an encoded slash", build: one(getNoBody("/files/" + hostileNT + "/..%2f..%2fnotekeeper.db?exp=9999999999&sig=00")), want: 403},
		{name: "signed link whose name climbs out", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, "../../notekeeper.db", hostileNT, "..%2f..%2fnotekeeper.db", future, nil))}
		}, want: 404, body: bodyLacks("bolt")},
		{name: "signed link whose ID climbs out", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget("..", "notekeeper.db", "%2e%2e", "notekeeper.db", future, nil))}
		}, want: 404, body: bodyLacks("bolt")},
		{name: "signed link to the hidden partial", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, ".recording.mp4.partial", hostileNT, ".recording.mp4.partial", future, nil))}
		}, want: 404},
		{name: "signed link to the manifest (not an archived file)", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget(hostileNT, "manifest.json", hostileNT, "manifest.json", future, nil))}
		}, want: 404},
		{name: "signed link to the link key", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{getNoBody(a.fileTarget("..", datadir.LinkKeyFile, "%2e%2e", datadir.LinkKeyFile, future, nil))}
		}, want: 404},
		{name: "POST to a file", build: func(a *hostileApp, _ *testing.T) []raw {
			return []raw{{method: "POST", target: a.fileTarget(hostileNT, hostileFile, hostileNT, hostileFile, future, nil), body: []byte("x")}}
		}, want: 405},
		{name: "file without a name", build: one(getNoBody("/files/" + hostileNT)), want: 404},

		// --- admin: authentication and CSRF (the dead letter must stay dead) ---
		{name: "admin without credentials", build: one(getNoBody("/admin/")), want: 401,
			header: map[string]string{"WWW-Authenticate": `Basic realm="notekeeper admin", charset="UTF-8"`}},
		{name: "admin with a wrong password", build: one(getNoBody("/admin/", adminAuth("wrong"))), want: 401},
		{name: "admin with a malformed Authorization", build: one(getNoBody("/admin/", "Authorization: Basic !!!")), want: 401},
		{name: "admin with a Bearer token", build: one(getNoBody("/admin/", "Authorization: Bearer "+testSecret)), want: 401},
		{name: "admin after five wrong passwords", build: func(*hostileApp, *testing.T) []raw {
			var rs []raw
			for range 6 {
				rs = append(rs, getNoBody("/admin/", adminAuth("wrong")))
			}
			return rs
		}, want: 429},
		{name: "admin with the right password", build: one(getNoBody("/admin/", adminAuth(hostilePasswd))), want: 200},
		{name: "admin retry without a token", build: one(raw{method: "POST", target: "/admin/deliveries/retry",
			body: []byte("key=" + url.QueryEscape(deadKey)), header: []string{adminAuth(hostilePasswd), form}}), want: 403},
		{name: "admin retry with a zero token", build: one(raw{method: "POST", target: "/admin/deliveries/retry",
			body: retryForm(strings.Repeat("0", 64)), header: []string{adminAuth(hostilePasswd), form}}), want: 403},
		{name: "admin retry with the token in the query", build: func(a *hostileApp, t *testing.T) []raw {
			return []raw{{method: "POST", target: "/admin/deliveries/retry?csrf=" + a.csrf(t) + "&key=" + url.QueryEscape(deadKey),
				header: []string{adminAuth(hostilePasswd), form}}}
		}, want: 403},
		{name: "admin retry from a foreign Origin", build: func(a *hostileApp, t *testing.T) []raw {
			return []raw{{method: "POST", target: "/admin/deliveries/retry", body: retryForm(a.csrf(t)),
				header: []string{adminAuth(hostilePasswd), form, "Origin: https://evil.example"}}}
		}, want: 403},
		{name: "admin retry cross-site", build: func(a *hostileApp, t *testing.T) []raw {
			return []raw{{method: "POST", target: "/admin/deliveries/retry", body: retryForm(a.csrf(t)),
				header: []string{adminAuth(hostilePasswd), form, "Sec-Fetch-Site: cross-site"}}}
		}, want: 403},
		{name: "admin retry with a token but a wrong password", build: func(a *hostileApp, t *testing.T) []raw {
			return []raw{{method: "POST", target: "/admin/deliveries/retry", body: retryForm(a.csrf(t)),
				header: []string{adminAuth("wrong"), form}}}
		}, want: 401},
		{name: "admin retry with an oversized form", build: func(a *hostileApp, t *testing.T) []raw {
			return []raw{{method: "POST", target: "/admin/deliveries/retry",
				body: append(retryForm(a.csrf(t)), []byte("&pad="+strings.Repeat("p", 64<<10))...), header: []string{adminAuth(hostilePasswd), form}}}
		}, want: 400},
		{name: "admin retry, same origin, with the token", build: func(a *hostileApp, t *testing.T) []raw {
			return []raw{{method: "POST", target: "/admin/deliveries/retry", body: retryForm(a.csrf(t)),
				header: []string{adminAuth(hostilePasswd), form, "Sec-Fetch-Site: same-origin"}}}
		}, want: 303, retried: true},

		// --- the rest of the listener ---
		{name: "healthz", build: one(getNoBody("/healthz")), want: 200},
		{name: "readyz", build: one(getNoBody("/readyz")), want: 200},
		{name: "metrics without a handler", build: one(getNoBody("/metrics")), want: 404},
		{name: "unknown path", build: one(getNoBody("/.env")), want: 404},
		{name: "absolute-form target to another host", build: one(getNoBody("http://evil.example/webhooks/nylas?challenge=x")), want: 200, body: bodyIs("x")},
	}
}

// TestHostileRequests runs the table, each case on a fresh server and store.
func TestHostileRequests(t *testing.T) {
	cases := hostileCases()
	if len(cases) < 60 {
		t.Fatalf("%d cases; the issue asks for at least 60", len(cases))
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			a := openHostile(t)
			before := a.counts(t)
			var resp *http.Response
			var body string
			for _, rq := range tc.build(a, t) {
				resp, body = a.send(t, rq)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d (%q)", resp.StatusCode, tc.want, trim(body))
			}
			after := a.counts(t)
			if got := after.stored - before.stored; got != tc.stored {
				t.Errorf("%d notifications stored, want %d", got, tc.stored)
			}
			if got := after.quarantined - before.quarantined; got != tc.quarantined {
				t.Errorf("%d requests quarantined, want %d", got, tc.quarantined)
			}
			if got := after.alerts - before.alerts; got != tc.alerts {
				t.Errorf("%d alerts raised, want %d", got, tc.alerts)
			}
			if after.deadStill == tc.retried {
				t.Errorf("dead letter retried: %v, want %v", !after.deadStill, tc.retried)
			}
			for k, v := range tc.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("answer header %s %q, want %q", k, got, v)
				}
			}
			if tc.body != nil {
				tc.body(t, body)
			}
			for _, s := range []string{testSecret, rotatedSecret, hostilePasswd} {
				if strings.Contains(body, s) {
					t.Errorf("the answer leaks a secret: %q", trim(body))
				}
			}
		})
	}
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// flip changes the last hex digit of s.
func flip(s string) string {
	last := s[len(s)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return s[:len(s)-1] + string(repl)
}
