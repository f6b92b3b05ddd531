package nylas_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// apiKey is the key every fake expects; tests assert it never leaks.
const apiKey = "nyk_v0_TESTKEY_8c1f0b6a2d"

// answer is one scripted reply of the fake API.
type answer struct {
	status int
	header map[string]string
	body   string
	drop   bool          // close the connection without answering
	delay  time.Duration // wait this long (or until the client gives up) first
}

// request is what the fake API saw of one request.
type request struct {
	Method      string
	Path        string // decoded
	EscapedPath string // as sent
	RawQuery    string
	Query       url.Values
	Header      http.Header
	Body        string
}

// fakeAPI is a scripted Nylas: the n-th request gets the n-th answer. A
// request beyond the script fails the test.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	arrived chan struct{} // one token per request
	conns   atomic.Int32  // connections opened

	mu     sync.Mutex
	script []answer
	reqs   []request
}

func newFakeAPI(t *testing.T, script ...answer) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, script: script, arrived: make(chan struct{}, 100)}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, request{Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	n := len(f.reqs)
	var a answer
	if len(f.script) > 0 {
		a, f.script = f.script[0], f.script[1:]
	} else {
		a = answer{status: http.StatusTeapot, body: `{"error":{"type":"test","message":"unscripted request"}}`}
		f.t.Errorf("unscripted request #%d: %s %s", n, r.Method, r.URL)
	}
	f.mu.Unlock()
	f.arrived <- struct{}{}
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// client returns a client of the fake whose back-off waits are recorded,
// not slept.
func (f *fakeAPI) client() (*nylas.Client, *nylas.Waits) {
	c := nylas.New(f.srv.URL, apiKey)
	return c, nylas.RecordWaits(c)
}

// requests returns the requests seen so far.
func (f *fakeAPI) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// ok is a 200 answer with data in the {request_id, data} envelope.
func ok(data string) answer {
	return answer{status: http.StatusOK, body: `{"request_id":"req-ok","data":` + data + `}`}
}

// status is an answer with an empty body.
func status(code int, header ...string) answer {
	a := answer{status: code, header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		a.header[header[i]] = header[i+1]
	}
	return a
}

// apiError is a non-2xx answer in Nylas' error shape.
func apiError(code int, typ, msg string) answer {
	b, _ := json.Marshal(map[string]any{"request_id": "req-err", "error": map[string]string{"type": typ, "message": msg}})
	return answer{status: code, body: string(b)}
}

// fixture returns testdata/name.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// notetakerJSON is data.object of the notetaker-created notification: the
// Notetaker object as Nylas serialises it.
func notetakerJSON(t *testing.T) string {
	t.Helper()
	var n struct {
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(fixture(t, "notetaker-created.json")), &n); err != nil {
		t.Fatal(err)
	}
	return string(n.Data.Object)
}
