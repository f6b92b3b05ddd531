package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir/datadirtest"
)

// knobs make the storage stand-in misbehave. cutAfter and lie apply to the
// next response only; the others until changed.
type knobs struct {
	status      int           // answer this status instead
	cutAfter    int           // close the connection after this many body bytes
	lie         int           // announce this many more bytes than are sent, then close
	ignoreRange bool          // always 200 with the whole file
	wrongRange  bool          // answer a Range request with 206 for bytes 0-
	chunked     bool          // no Content-Length
	slow        time.Duration // sleep between 32 KiB chunks
	hangAfter   int           // after this many body bytes, send nothing more
	contentType string
}

// storage is a stand-in for Nylas' signed media storage. It serves a
// deterministic pattern, honours Range (http.ServeContent when no knob is
// set), and records every request's headers; at the end of the test it
// fails if any request carried credentials.
type storage struct {
	t    testing.TB
	data []byte
	sum  string // sha256 of data, computed here independently of Fetch
	srv  *httptest.Server

	mu      sync.Mutex
	k       knobs
	headers []http.Header
}

func newStorage(t testing.TB, size int) *storage {
	t.Helper()
	s := &storage{t: t, data: pattern(size), k: knobs{contentType: "video/mp4"}}
	h := sha256.Sum256(s.data)
	s.sum = hex.EncodeToString(h[:])
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.srv.Close()
		for i, h := range s.requests() {
			for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
				if v := h.Get(k); v != "" {
					t.Errorf("storage request %d carried %s: %q", i, k, v)
				}
			}
		}
	})
	return s
}

// pattern is size deterministic, non-repeating-looking bytes.
func pattern(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*31) ^ byte(i>>9) ^ byte(i>>17)
	}
	return b
}

func (s *storage) set(f func(k *knobs)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.k)
}

func (s *storage) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.headers)
}

// rangesSince lists the Range headers of requests from number n on.
func (s *storage) rangesSince(n int) []string {
	var out []string
	for _, h := range s.requests()[n:] {
		out = append(out, h.Get("Range"))
	}
	return out
}

func (s *storage) url() string {
	return s.srv.URL + "/nt1/meeting_recording.mp4?X-Goog-Signature=secret-sig"
}

func (s *storage) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.headers = append(s.headers, r.Header.Clone())
	k := s.k
	s.k.cutAfter, s.k.lie = 0, 0
	s.mu.Unlock()

	if k.status != 0 {
		http.Error(w, "AccessDenied", k.status)
		return
	}
	w.Header().Set("Content-Type", k.contentType)
	if k == (knobs{contentType: k.contentType}) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(s.data))
		return
	}
	body, status := s.data, http.StatusOK
	if from, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok && !k.ignoreRange {
		n, _ := strconv.Atoi(strings.TrimSuffix(from, "-"))
		switch {
		case k.wrongRange:
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(s.data)-1, len(s.data)))
			status = http.StatusPartialContent
		case n >= len(s.data):
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(s.data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		default:
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(s.data)-1, len(s.data)))
			body, status = s.data[n:], http.StatusPartialContent
		}
	}
	if !k.chunked {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+k.lie))
	}
	w.WriteHeader(status)
	sent := 0
	for len(body) > 0 {
		if k.cutAfter > 0 && sent >= k.cutAfter {
			break
		}
		if k.hangAfter > 0 && sent >= k.hangAfter {
			<-r.Context().Done()
			return
		}
		n := min(len(body), 32<<10)
		if k.cutAfter > 0 {
			n = min(n, k.cutAfter-sent)
		}
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		body, sent = body[n:], sent+n
		if k.slow > 0 {
			select {
			case <-time.After(k.slow):
			case <-r.Context().Done():
				return
			}
		}
	}
	if k.cutAfter > 0 || k.lie > 0 {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close() // mid-body: the client sees an unexpected EOF
		}
	}
}

func fetcher() *archive.Fetcher { return &archive.Fetcher{AllowHTTP: true, MaxBytes: 64 << 20} }

func partialPath(dir, name string) string { return filepath.Join(dir, "."+name+".partial") }

// partialSize is the partial's size, -1 when there is none.
func partialSize(t *testing.T, dir, name string) int64 {
	t.Helper()
	fi, err := os.Stat(partialPath(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return -1
	} else if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("partial mode %v, want 0600", fi.Mode().Perm())
	}
	return fi.Size()
}

func TestFetch_Complete(t *testing.T) {
	st := newStorage(t, 3<<20)
	root := t.TempDir()
	dir := filepath.Join(root, "media", "nt1")
	res, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4", Expect: int64(len(st.data))})
	if err != nil {
		t.Fatal(err)
	}
	want := archive.Result{Name: "recording.mp4", Bytes: int64(len(st.data)), SHA256: st.sum, ContentType: "video/mp4"}
	if *res != want {
		t.Fatalf("result %+v, want %+v", *res, want)
	}
	datadirtest.AssertFile(t, dir, "recording.mp4", st.data)
	datadirtest.AssertOnly(t, dir, "recording.mp4")
	for _, d := range []string{filepath.Join(root, "media"), dir} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
	if got := st.rangesSince(0); len(got) != 1 || got[0] != "" {
		t.Fatalf("requests' Range headers %q, want one request without Range", got)
	}
}

func TestFetch_EmptyFile(t *testing.T) {
	st := newStorage(t, 0)
	dir := t.TempDir()
	res, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "summary.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != 0 || res.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("result %+v", res)
	}
	datadirtest.AssertOnly(t, dir, "summary.json")
}

func TestFetch_ReplacesExistingFile(t *testing.T) {
	st := newStorage(t, 100<<10)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "recording.mp4"), []byte("old, torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"}); err != nil {
		t.Fatal(err)
	}
	datadirtest.AssertFile(t, dir, "recording.mp4", st.data)
	datadirtest.AssertOnly(t, dir, "recording.mp4")
}

// TestFetch_Interrupted: a first Fetch fails part-way and leaves a partial;
// the second completes the file, resuming or starting over as the server
// allows.
func TestFetch_Interrupted(t *testing.T) {
	const size = 3 << 20
	cases := []struct {
		name        string
		first       func(k *knobs) // before the first Fetch
		second      func(k *knobs) // before the second
		wantErr     error          // of the first Fetch
		wantPartial int64          // partial size after the first Fetch
		wantRanges  []string       // Range headers of the second Fetch's requests
		wantResumed bool
	}{
		{
			name:  "cut mid-body resumes with Range",
			first: func(k *knobs) { k.cutAfter = 1 << 20 }, wantErr: io.ErrUnexpectedEOF, wantPartial: 1 << 20,
			wantRanges: []string{"bytes=1048576-"}, wantResumed: true,
		},
		{
			name:  "cut chunked body resumes with Range",
			first: func(k *knobs) { k.cutAfter = 1<<20 + 123; k.chunked = true }, wantErr: io.ErrUnexpectedEOF, wantPartial: 1<<20 + 123,
			second:     func(k *knobs) { k.chunked = false },
			wantRanges: []string{"bytes=1048699-"}, wantResumed: true,
		},
		{
			name:  "short body (Content-Length lies) resumes",
			first: func(k *knobs) { k.lie = 4096; k.cutAfter = 2 << 20 }, wantErr: io.ErrUnexpectedEOF, wantPartial: 2 << 20,
			wantRanges: []string{"bytes=2097152-"}, wantResumed: true,
		},
		{
			name:  "whole body but Content-Length lies: 416 on resume, restart",
			first: func(k *knobs) { k.lie = 10 }, wantErr: io.ErrUnexpectedEOF, wantPartial: size,
			wantRanges: []string{"bytes=3145728-", ""}, wantResumed: false,
		},
		{
			name:  "server ignoring Range: restart from zero",
			first: func(k *knobs) { k.cutAfter = 1 << 20 }, wantErr: io.ErrUnexpectedEOF, wantPartial: 1 << 20,
			second:     func(k *knobs) { k.ignoreRange = true },
			wantRanges: []string{"bytes=1048576-"}, wantResumed: false,
		},
		{
			name:  "206 for another range: restart from zero",
			first: func(k *knobs) { k.cutAfter = 1 << 20 }, wantErr: io.ErrUnexpectedEOF, wantPartial: 1 << 20,
			second:     func(k *knobs) { k.wrongRange = true },
			wantRanges: []string{"bytes=1048576-", ""}, wantResumed: false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newStorage(t, size)
			st.set(tc.first)
			dir := t.TempDir()
			req := archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"}
			f := fetcher()
			if _, err := f.Fetch(t.Context(), req); !errors.Is(err, tc.wantErr) {
				t.Fatalf("first fetch: %v, want %v", err, tc.wantErr)
			}
			if got := partialSize(t, dir, "recording.mp4"); got != tc.wantPartial {
				t.Fatalf("partial holds %d bytes, want %d", got, tc.wantPartial)
			}
			datadirtest.AssertOnly(t, dir, ".recording.mp4.partial")
			if tc.second != nil {
				st.set(tc.second)
			}
			n := len(st.requests())
			res, err := f.Fetch(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.SHA256 != st.sum || res.Bytes != size || res.Resumed != tc.wantResumed {
				t.Fatalf("result %+v, want sha %s, %d bytes, resumed %v", res, st.sum, size, tc.wantResumed)
			}
			if got := st.rangesSince(n); strings.Join(got, "|") != strings.Join(tc.wantRanges, "|") {
				t.Fatalf("second fetch's Range headers %q, want %q", got, tc.wantRanges)
			}
			datadirtest.AssertFile(t, dir, "recording.mp4", st.data)
			datadirtest.AssertOnly(t, dir, "recording.mp4")
		})
	}
}

// TestFetch_416Restarts: a partial longer than the file (it changed) gets
// 416 from a real http.ServeContent, and the download starts over.
func TestFetch_416Restarts(t *testing.T) {
	st := newStorage(t, 200<<10)
	dir := t.TempDir()
	if err := os.WriteFile(partialPath(dir, "recording.mp4"), pattern(300<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.rangesSince(0); strings.Join(got, "|") != "bytes=307200-|" {
		t.Fatalf("Range headers %q, want a Range then none", got)
	}
	if res.SHA256 != st.sum || res.Resumed {
		t.Fatalf("result %+v", res)
	}
	datadirtest.AssertFile(t, dir, "recording.mp4", st.data)
	datadirtest.AssertOnly(t, dir, "recording.mp4")
}

// TestFetch_Expired: refusals that mean "the signed URL is no longer good"
// are ErrExpired and keep the partial, which resumes once the link works.
func TestFetch_Expired(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		wantExpired bool
	}{
		{"400", http.StatusBadRequest, true},
		{"401", http.StatusUnauthorized, true},
		{"403", http.StatusForbidden, true},
		{"404", http.StatusNotFound, true},
		{"410", http.StatusGone, true},
		{"500 is not expiry", http.StatusInternalServerError, false},
		{"503 is not expiry", http.StatusServiceUnavailable, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newStorage(t, 1<<20)
			dir := t.TempDir()
			req := archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4", Expect: 1 << 20}
			st.set(func(k *knobs) { k.cutAfter = 300 << 10 })
			if _, err := fetcher().Fetch(t.Context(), req); err == nil {
				t.Fatal("cut fetch succeeded")
			}
			st.set(func(k *knobs) { k.status = tc.status })
			_, err := fetcher().Fetch(t.Context(), req)
			if err == nil || errors.Is(err, archive.ErrExpired) != tc.wantExpired {
				t.Fatalf("error %v, want ErrExpired: %v", err, tc.wantExpired)
			}
			if strings.Contains(err.Error(), "secret-sig") {
				t.Fatalf("error repeats the signed URL: %v", err)
			}
			if got := partialSize(t, dir, "recording.mp4"); got != 300<<10 {
				t.Fatalf("partial holds %d bytes, want it kept at %d", got, 300<<10)
			}
			datadirtest.AssertOnly(t, dir, ".recording.mp4.partial")
			st.set(func(k *knobs) { k.status = 0 })
			res, err := fetcher().Fetch(t.Context(), req)
			if err != nil || !res.Resumed || res.SHA256 != st.sum {
				t.Fatalf("after the refusal: %+v %v", res, err)
			}
		})
	}
}

// TestFetch_Sizes: Expect and MaxBytes, with and without Content-Length.
// A failure leaves nothing behind; the bounds are inclusive.
func TestFetch_Sizes(t *testing.T) {
	const size = 500 << 10
	cases := []struct {
		name    string
		chunked bool
		expect  int64
		max     int64
		want    error
	}{
		{name: "Expect smaller, Content-Length", expect: size - 1, want: archive.ErrSizeMismatch},
		{name: "Expect larger, Content-Length", expect: size + 1, want: archive.ErrSizeMismatch},
		{name: "Expect smaller, chunked", chunked: true, expect: size - 10, want: archive.ErrSizeMismatch},
		{name: "Expect larger, chunked", chunked: true, expect: size + 10, want: archive.ErrSizeMismatch},
		{name: "over MaxBytes, Content-Length", max: size - 1, want: archive.ErrTooLarge},
		{name: "over MaxBytes, chunked", chunked: true, max: 100 << 10, want: archive.ErrTooLarge},
		{name: "over MaxBytes and Expect, chunked", chunked: true, expect: size, max: 100 << 10, want: archive.ErrTooLarge},
		{name: "exactly MaxBytes, chunked", chunked: true, max: size},
		{name: "exactly Expect, chunked", chunked: true, expect: size},
		{name: "exactly Expect and MaxBytes, Content-Length", expect: size, max: size},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newStorage(t, size)
			st.set(func(k *knobs) { k.chunked = tc.chunked })
			dir := t.TempDir()
			f := &archive.Fetcher{AllowHTTP: true, MaxBytes: tc.max}
			res, err := f.Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4", Expect: tc.expect})
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				datadirtest.AssertOnly(t, dir) // no final file, no partial
				return
			}
			if res.SHA256 != st.sum {
				t.Fatalf("result %+v", res)
			}
			datadirtest.AssertFile(t, dir, "recording.mp4", st.data)
		})
	}
}

// TestFetch_MaxBytesWhileStreaming: an endless chunked body stops at
// MaxBytes instead of filling the disk.
func TestFetch_MaxBytesWhileStreaming(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := pattern(64 << 10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	f := &archive.Fetcher{AllowHTTP: true, MaxBytes: 3 << 20}
	start := time.Now()
	_, err := f.Fetch(ctx, archive.Request{URL: srv.URL + "/endless", Dir: dir, Name: "recording.mp4"})
	if !errors.Is(err, archive.ErrTooLarge) || ctx.Err() != nil {
		t.Fatalf("error %v after %v, want ErrTooLarge at once", err, time.Since(start))
	}
	datadirtest.AssertOnly(t, dir)
}

// TestFetch_Policy: URLs refused before anything is sent or created.
func TestFetch_Policy(t *testing.T) {
	st := newStorage(t, 10<<10)
	httpURL := st.url()
	port := st.srv.Listener.Addr().(*net.TCPAddr).Port
	cases := []struct {
		name string
		f    *archive.Fetcher
		url  string
	}{
		{"http without allow_http_media", &archive.Fetcher{}, httpURL},
		{"ftp", &archive.Fetcher{AllowHTTP: true}, "ftp://127.0.0.1/x"},
		{"file", &archive.Fetcher{AllowHTTP: true}, "file:///etc/passwd"},
		{"relative", &archive.Fetcher{AllowHTTP: true}, "/x/y"},
		{"no host", &archive.Fetcher{AllowHTTP: true}, "https:///x"},
		{"credentials in the URL", &archive.Fetcher{AllowHTTP: true}, strings.Replace(httpURL, "http://", "http://user:pass@", 1)},
		{"host not in media_hosts", &archive.Fetcher{AllowHTTP: true, Hosts: []string{"storage.googleapis.com"}}, httpURL},
		{"media_hosts is exact, not a suffix", &archive.Fetcher{AllowHTTP: true, Hosts: []string{"0.0.1"}}, httpURL},
		{"loopback literal", &archive.Fetcher{}, "https://127.0.0.1:" + strconv.Itoa(port) + "/x"},
		{"IPv6 loopback literal", &archive.Fetcher{}, "https://[::1]/x"},
		{"IPv4-mapped loopback", &archive.Fetcher{}, "https://[::ffff:127.0.0.1]/x"},
		{"private 10/8", &archive.Fetcher{}, "https://10.1.2.3/x"},
		{"private 192.168/16", &archive.Fetcher{}, "https://192.168.1.1/x"},
		{"metadata link-local", &archive.Fetcher{}, "https://169.254.169.254/latest/meta-data"},
		{"unspecified", &archive.Fetcher{}, "https://0.0.0.0/x"},
		{"CGNAT", &archive.Fetcher{}, "https://100.64.0.1/x"},
		{"NAT64 of a private address", &archive.Fetcher{}, "https://[64:ff9b::a00:1]/x"},
		{"IPv6 unique local", &archive.Fetcher{}, "https://[fd00::1]/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nt1")
			n := len(st.requests())
			_, err := tc.f.Fetch(t.Context(), archive.Request{URL: tc.url, Dir: dir, Name: "recording.mp4"})
			if !errors.Is(err, archive.ErrNotAllowed) {
				t.Fatalf("error %v, want ErrNotAllowed", err)
			}
			if strings.Contains(err.Error(), "secret-sig") || strings.Contains(err.Error(), "pass") {
				t.Fatalf("error repeats a credential: %v", err)
			}
			if len(st.requests()) != n {
				t.Fatal("a refused URL reached storage")
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("folder created for a refused URL: %v", err)
			}
		})
	}

	t.Run("media_hosts matches case-insensitively, port ignored", func(t *testing.T) {
		f := &archive.Fetcher{AllowHTTP: true, Hosts: []string{"storage.googleapis.com", "127.0.0.1"}}
		if _, err := f.Fetch(t.Context(), archive.Request{URL: httpURL, Dir: t.TempDir(), Name: "recording.mp4"}); err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(httpURL)
		u.Host = "LocalHost:" + u.Port()
		f = &archive.Fetcher{AllowHTTP: true, Hosts: []string{"localhost"}}
		if _, err := f.Fetch(t.Context(), archive.Request{URL: u.String(), Dir: t.TempDir(), Name: "recording.mp4"}); err != nil {
			t.Fatal(err)
		}
	})
}

// countingTLS is an https server that counts requests.
func countingTLS(t *testing.T, body []byte) (*httptest.Server, func() int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Write(body)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused connections end handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFetch_AddressCheckedAtDial: without allow_http_media, a host name
// that resolves to a loopback address is refused when dialling (the
// DNS-rebinding case), whether through the default client or a caller's.
// The controls show that the same fetches succeed when allowed, so the
// refusal is the policy's, not a TLS or network failure.
func TestFetch_AddressCheckedAtDial(t *testing.T) {
	body := []byte("thumbnail bytes")
	srv, requests := countingTLS(t, body)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	// srv.Client() trusts the test certificate and dials example.com to the
	// test server: a public name resolving to 127.0.0.1.
	cases := []struct {
		name    string
		f       *archive.Fetcher
		url     string
		allowed bool
	}{
		{"control: TLS client, IP literal, allowed", &archive.Fetcher{HTTP: srv.Client(), AllowHTTP: true}, srv.URL + "/t", true},
		{"control: TLS client, example.com, allowed", &archive.Fetcher{HTTP: srv.Client(), AllowHTTP: true}, "https://example.com/t", true},
		{"TLS client, example.com resolving to loopback", &archive.Fetcher{HTTP: srv.Client()}, "https://example.com/t", false},
		{"TLS client, loopback literal", &archive.Fetcher{HTTP: srv.Client()}, srv.URL + "/t", false},
		{"default client, localhost", &archive.Fetcher{}, "https://localhost:" + strconv.Itoa(port) + "/t", false},
		{"client with nil Transport, localhost", &archive.Fetcher{HTTP: &http.Client{}}, "https://localhost:" + strconv.Itoa(port) + "/t", false},
		{"uncheckable RoundTripper", &archive.Fetcher{HTTP: &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			return srv.Client().Transport.RoundTrip(r)
		})}}, "https://example.com/t", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			n := requests()
			res, err := tc.f.Fetch(t.Context(), archive.Request{URL: tc.url, Dir: dir, Name: "thumbnail.png"})
			if tc.allowed {
				if err != nil {
					t.Fatal(err)
				}
				if res.Bytes != int64(len(body)) {
					t.Fatalf("result %+v", res)
				}
				return
			}
			if !errors.Is(err, archive.ErrNotAllowed) {
				t.Fatalf("error %v, want ErrNotAllowed", err)
			}
			if requests() != n {
				t.Fatal("the refused fetch reached the server")
			}
			datadirtest.AssertOnly(t, dir)
		})
	}
}

// TestFetch_Redirects: a redirect is checked against the policy again, and
// no cookie (from a caller's Jar or from the redirecting server) follows it.
func TestFetch_Redirects(t *testing.T) {
	st := newStorage(t, 200<<10)
	// The redirect goes to the storage under another host name.
	target, _ := url.Parse(st.url())
	target.Host = "localhost:" + target.Port()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("redirector got credentials: %v", r.Header)
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "from-redirector", Path: "/"})
		http.Redirect(w, r, target.String(), http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	jar, _ := cookiejar.New(nil)
	for _, u := range []string{redirect.URL, st.srv.URL, "http://" + target.Host} {
		pu, _ := url.Parse(u)
		jar.SetCookies(pu, []*http.Cookie{{Name: "jar", Value: "leak", Path: "/"}})
	}

	cases := []struct {
		name  string
		f     *archive.Fetcher
		allow bool
	}{
		{"redirect to a host outside media_hosts", &archive.Fetcher{AllowHTTP: true, Hosts: []string{"127.0.0.1"}}, false},
		{"redirect inside media_hosts, with a cookie jar", &archive.Fetcher{AllowHTTP: true, Hosts: []string{"127.0.0.1", "localhost"}, HTTP: &http.Client{Jar: jar}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			n := len(st.requests())
			res, err := tc.f.Fetch(t.Context(), archive.Request{URL: redirect.URL + "/x?X-Goog-Signature=secret-sig", Dir: dir, Name: "recording.mp4"})
			if !tc.allow {
				if !errors.Is(err, archive.ErrNotAllowed) {
					t.Fatalf("error %v, want ErrNotAllowed", err)
				}
				if len(st.requests()) != n {
					t.Fatal("the refused redirect reached storage")
				}
				datadirtest.AssertOnly(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.SHA256 != st.sum {
				t.Fatalf("result %+v", res)
			}
			if len(st.requests()) != n+1 {
				t.Fatal("storage not reached through the redirect")
			}
			// newStorage's cleanup fails the test if a Cookie arrived.
		})
	}
}

// TestFetch_CancelMidDownload: cancelling ctx returns promptly, keeps the
// partial, and never shows the final name; the next Fetch resumes.
func TestFetch_CancelMidDownload(t *testing.T) {
	st := newStorage(t, 4<<20)
	st.set(func(k *knobs) { k.slow = 20 * time.Millisecond })
	dir := filepath.Join(t.TempDir(), "nt1")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	f := fetcher()
	go func() {
		_, err := f.Fetch(ctx, archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
		done <- err
	}()
	final := filepath.Join(dir, "recording.mp4")
	for partialSize(t, dir, "recording.mp4") < 256<<10 { // partialSize checks 0600 each time
		if _, err := os.Stat(final); err == nil {
			t.Fatal("final name exists while downloading")
		}
		select {
		case err := <-done:
			t.Fatalf("fetch ended early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir: %v %v", fi, err)
	}
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel not honoured")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancel took %v", d)
	}
	kept := partialSize(t, dir, "recording.mp4")
	if kept <= 0 || kept >= int64(len(st.data)) {
		t.Fatalf("partial holds %d bytes after cancel", kept)
	}
	datadirtest.AssertOnly(t, dir, ".recording.mp4.partial")
	st.set(func(k *knobs) { k.slow = 0 })
	res, err := f.Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
	if err != nil || res.SHA256 != st.sum || !res.Resumed {
		t.Fatalf("resume after cancel: %+v %v", res, err)
	}
	datadirtest.AssertFile(t, dir, "recording.mp4", st.data)
}

// TestFetch_Stall: a server that stops sending is abandoned after
// StallTimeout, keeping the partial.
func TestFetch_Stall(t *testing.T) {
	st := newStorage(t, 1<<20)
	st.set(func(k *knobs) { k.hangAfter = 128 << 10 })
	dir := t.TempDir()
	f := &archive.Fetcher{AllowHTTP: true, StallTimeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := f.Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
	if err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("error %v, want a stall", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stall detected after %v", d)
	}
	if got := partialSize(t, dir, "recording.mp4"); got != 128<<10 {
		t.Fatalf("partial holds %d bytes, want %d", got, 128<<10)
	}
}

// TestFetch_SlowButSteadyIsNotAStall: StallTimeout is about silence, not
// total time.
func TestFetch_SlowButSteadyIsNotAStall(t *testing.T) {
	st := newStorage(t, 320<<10)
	st.set(func(k *knobs) { k.slow = 50 * time.Millisecond }) // 10 chunks: ~500 ms in all
	f := &archive.Fetcher{AllowHTTP: true, StallTimeout: 200 * time.Millisecond}
	if _, err := f.Fetch(t.Context(), archive.Request{URL: st.url(), Dir: t.TempDir(), Name: "recording.mp4"}); err != nil {
		t.Fatal(err)
	}
}

func TestFetch_Busy(t *testing.T) {
	st := newStorage(t, 1<<20)
	st.set(func(k *knobs) { k.slow = 20 * time.Millisecond })
	dir := t.TempDir()
	f := fetcher()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
		done <- err
	}()
	for partialSize(t, dir, "recording.mp4") <= 0 {
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := f.Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"}); !errors.Is(err, archive.ErrBusy) {
		t.Fatalf("second fetch of the same file: %v, want ErrBusy", err)
	}
	cancel()
	<-done
	st.set(func(k *knobs) { k.slow = 0 })
	if _, err := f.Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"}); err != nil {
		t.Fatalf("after the first ended: %v", err)
	}
}

func TestFetch_Names(t *testing.T) {
	thumb := func(ct string) string { return archive.FileName("thumbnail", "", ct) }
	cases := []struct {
		name        string
		contentType string
		reqName     string
		nameFor     func(string) string
		want        string // final name; "" = the fetch fails
	}{
		{"jpeg announced as png becomes .jpg", "image/jpeg", "thumbnail.png", thumb, "thumbnail.jpg"},
		{"png stays png", "image/png", "thumbnail.png", thumb, "thumbnail.png"},
		{"no NameFor keeps Name", "image/jpeg", "thumbnail.png", nil, "thumbnail.png"},
		{"NameFor escaping the folder", "image/jpeg", "thumbnail.png", func(string) string { return "../evil.jpg" }, ""},
		{"NameFor hidden name", "image/jpeg", "thumbnail.png", func(string) string { return ".manifest" }, ""},
		{"Name escaping the folder", "image/png", "../x.png", nil, ""},
		{"empty Name", "image/png", "", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newStorage(t, 1000)
			st.set(func(k *knobs) { k.contentType = tc.contentType })
			root := t.TempDir()
			dir := filepath.Join(root, "nt1")
			res, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: tc.reqName, NameFor: tc.nameFor})
			if tc.want == "" {
				if err == nil {
					t.Fatalf("fetched as %q", res.Name)
				}
				datadirtest.AssertOnly(t, root, dirNames(dir)...)
				datadirtest.AssertOnly(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Name != tc.want || res.ContentType != tc.contentType {
				t.Fatalf("result %+v, want name %q", res, tc.want)
			}
			datadirtest.AssertFile(t, dir, tc.want, st.data)
			datadirtest.AssertOnly(t, dir, tc.want)
		})
	}
}

// dirNames is what the test root may hold: the meeting folder, if made.
func dirNames(dir string) []string {
	if _, err := os.Stat(dir); err == nil {
		return []string{filepath.Base(dir)}
	}
	return nil
}

// BenchmarkFetch measures a 64 MiB download from a local server, with
// hashing, fsync and rename (go test -bench Fetch reports MB/s).
func BenchmarkFetch(b *testing.B) {
	st := newStorage(b, 64<<20)
	dir := b.TempDir()
	f := fetcher()
	b.SetBytes(int64(len(st.data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := f.Fetch(b.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4", Expect: int64(len(st.data))})
		if err != nil {
			b.Fatal(err)
		}
		if res.SHA256 != st.sum {
			b.Fatal("sha256 differs")
		}
	}
}
