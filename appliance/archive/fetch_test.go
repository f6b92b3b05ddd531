package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

// storage is a stand-in for signed media storage with failure knobs.
type storage struct {
	t    *testing.T
	data []byte
	srv  *httptest.Server

	mu          sync.Mutex
	cutAfter    int  // cut the next full-body response after this many bytes
	lie         int  // announce this many extra bytes in Content-Length, once
	ignoreRange bool // always 200 with the whole file
	status      int  // answer this status instead, while set
	slow        time.Duration
	contentType string
	ranges      []string
}

func newStorage(t *testing.T, size int) *storage {
	s := &storage{t: t, data: make([]byte, size), contentType: "video/mp4"}
	for i := range s.data {
		s.data[i] = byte(i*13) ^ byte(i>>11)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *storage) sha() string {
	h := sha256.Sum256(s.data)
	return hex.EncodeToString(h[:])
}

func (s *storage) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
		s.t.Errorf("storage request carries credentials")
	}
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	cut, lie, ignore, status, slow, ct := s.cutAfter, s.lie, s.ignoreRange, s.status, s.slow, s.contentType
	s.cutAfter, s.lie = 0, 0
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, "denied", status)
		return
	}
	w.Header().Set("Content-Type", ct)
	if cut > 0 || lie > 0 || ignore || slow > 0 {
		w.Header().Set("Content-Length", fmt.Sprint(len(s.data)+lie))
		w.WriteHeader(http.StatusOK)
		body := s.data
		if cut > 0 {
			body = body[:cut]
		}
		for len(body) > 0 {
			n := min(len(body), 32<<10)
			if _, err := w.Write(body[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			body = body[n:]
			if slow > 0 {
				select {
				case <-time.After(slow):
				case <-r.Context().Done():
					return
				}
			}
		}
		if cut > 0 || lie > 0 {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(s.data))
}

func (s *storage) url() string { return s.srv.URL + "/media/recording.mp4?X-Goog-Signature=abc" }

func fetcher() *archive.Fetcher { return &archive.Fetcher{AllowHTTP: true, MaxBytes: 64 << 20} }

func assertFile(t *testing.T, dir, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, differ from the source's %d", name, len(got), len(want))
	}
	fi, _ := os.Stat(filepath.Join(dir, name))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s mode %v", name, fi.Mode().Perm())
	}
}

func noPartial(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Fatalf("partial left: %s", e.Name())
		}
	}
}

func TestFetch_Complete(t *testing.T) {
	st := newStorage(t, 3<<20)
	dir := filepath.Join(t.TempDir(), "media", "nt1")
	res, err := fetcher().Fetch(context.Background(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4", Expect: int64(len(st.data))})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != st.sha() || res.Bytes != int64(len(st.data)) || res.ContentType != "video/mp4" || res.Resumed {
		t.Fatalf("result %+v", res)
	}
	assertFile(t, dir, "recording.mp4", st.data)
	noPartial(t, dir)
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode().Perm())
	}
}

func TestFetch_Interrupted(t *testing.T) {
	cases := []struct {
		name        string
		setup       func(s *storage)
		second      func(s *storage) // before the retry
		wantResumed bool
	}{
		{"cut mid-body resumes with Range", func(s *storage) { s.cutAfter = 1 << 20 }, nil, true},
		{"short body (Content-Length lies) resumes", func(s *storage) { s.lie = 4096; s.cutAfter = 2 << 20 }, nil, true},
		{"server ignoring Range restarts", func(s *storage) { s.cutAfter = 1 << 20 }, func(s *storage) { s.ignoreRange = true }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newStorage(t, 3<<20)
			tc.setup(st)
			dir := t.TempDir()
			req := archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"}
			if _, err := fetcher().Fetch(context.Background(), req); err == nil {
				t.Fatal("first fetch succeeded")
			}
			if _, err := os.Stat(filepath.Join(dir, "recording.mp4")); err == nil {
				t.Fatal("a torn file stands under the final name")
			}
			if fi, err := os.Stat(filepath.Join(dir, ".recording.mp4.partial")); err != nil || fi.Size() == 0 {
				t.Fatalf("partial not kept: %v", err)
			}
			if tc.second != nil {
				tc.second(st)
			}
			res, err := fetcher().Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.SHA256 != st.sha() || res.Resumed != tc.wantResumed {
				t.Fatalf("result %+v, want sha %s resumed %v", res, st.sha(), tc.wantResumed)
			}
			assertFile(t, dir, "recording.mp4", st.data)
			noPartial(t, dir)
			if tc.wantResumed && !strings.HasPrefix(st.ranges[len(st.ranges)-1], "bytes=") {
				t.Fatalf("no Range on the retry: %q", st.ranges)
			}
		})
	}
}

func TestFetch_Refusals(t *testing.T) {
	st := newStorage(t, 64<<10)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) }))
	defer tlsSrv.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.invalid/x", http.StatusFound)
	}))
	defer redirect.Close()
	cases := []struct {
		name      string
		f         *archive.Fetcher
		url       string
		status    int
		expect    int64
		want      error
		keepsPart bool
	}{
		{name: "http without allow_http_media", f: &archive.Fetcher{}, url: st.url(), want: archive.ErrNotAllowed},
		{name: "loopback address refused without allow_http_media", f: &archive.Fetcher{}, url: tlsSrv.URL + "/x", want: archive.ErrNotAllowed},
		{name: "host not in media_hosts", f: &archive.Fetcher{AllowHTTP: true, Hosts: []string{"storage.googleapis.com"}}, url: st.url(), want: archive.ErrNotAllowed},
		{name: "credentials in the URL", f: fetcher(), url: strings.Replace(st.url(), "http://", "http://u:p@", 1), want: archive.ErrNotAllowed},
		{name: "redirect to a host outside media_hosts", f: &archive.Fetcher{AllowHTTP: true, Hosts: []string{"127.0.0.1"}}, url: redirect.URL + "/x", want: archive.ErrNotAllowed},
		{name: "403 means expired", f: fetcher(), url: st.url(), status: 403, want: archive.ErrExpired, keepsPart: true},
		{name: "410 means expired", f: fetcher(), url: st.url(), status: 410, want: archive.ErrExpired, keepsPart: true},
		{name: "400 means expired", f: fetcher(), url: st.url(), status: 400, want: archive.ErrExpired, keepsPart: true},
		{name: "announced size differs", f: fetcher(), url: st.url(), expect: 1234, want: archive.ErrSizeMismatch},
		{name: "over max_file_bytes", f: &archive.Fetcher{AllowHTTP: true, MaxBytes: 1000}, url: st.url(), want: archive.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st.mu.Lock()
			st.status = tc.status
			st.mu.Unlock()
			dir := t.TempDir()
			_, err := tc.f.Fetch(context.Background(), archive.Request{URL: tc.url, Dir: dir, Name: "recording.mp4", Expect: tc.expect})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if strings.Contains(fmt.Sprint(err), "X-Goog-Signature") {
				t.Fatalf("error repeats the signed URL: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "recording.mp4")); err == nil {
				t.Fatal("a final file was written")
			}
			_, perr := os.Stat(filepath.Join(dir, ".recording.mp4.partial"))
			if !tc.keepsPart && perr == nil {
				t.Fatal("partial kept after a failure that cannot be resumed")
			}
		})
	}
}

func TestFetch_TooLargeWithoutContentLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 100 { // chunked: no Content-Length
			w.Write(make([]byte, 1024))
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	_, err := (&archive.Fetcher{AllowHTTP: true, MaxBytes: 10 << 10}).Fetch(context.Background(), archive.Request{URL: srv.URL, Dir: dir, Name: "recording.mp4"})
	if !errors.Is(err, archive.ErrTooLarge) {
		t.Fatalf("error %v", err)
	}
	noPartial(t, dir)
}

func TestFetch_CancelKeepsPartialAndNoFinalName(t *testing.T) {
	st := newStorage(t, 4<<20)
	st.slow = 20 * time.Millisecond
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := fetcher().Fetch(ctx, archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
		done <- err
	}()
	partial := filepath.Join(dir, ".recording.mp4.partial")
	for {
		if fi, err := os.Stat(partial); err == nil && fi.Size() > 64<<10 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "recording.mp4")); err == nil {
		t.Fatal("final name exists while downloading")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("cancelled fetch succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel not honoured")
	}
	if _, err := os.Stat(partial); err != nil {
		t.Fatal("partial removed on cancel")
	}
	st.slow = 0
	res, err := fetcher().Fetch(context.Background(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
	if err != nil || res.SHA256 != st.sha() || !res.Resumed {
		t.Fatalf("resume after cancel: %+v %v", res, err)
	}
}

func TestFetch_NameForFollowsContentType(t *testing.T) {
	st := newStorage(t, 1000)
	st.contentType = "image/jpeg"
	dir := t.TempDir()
	res, err := fetcher().Fetch(context.Background(), archive.Request{URL: st.url(), Dir: dir, Name: "thumbnail.png",
		NameFor: func(ct string) string { return archive.FileName("thumbnail", "", ct) }})
	if err != nil || res.Name != "thumbnail.jpg" {
		t.Fatalf("result %+v %v", res, err)
	}
	assertFile(t, dir, "thumbnail.jpg", st.data)
	noPartial(t, dir)
}

func BenchmarkFetch(b *testing.B) {
	data := make([]byte, 64<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := fetcher().Fetch(context.Background(), archive.Request{URL: srv.URL, Dir: dir, Name: "recording.mp4"}); err != nil {
			b.Fatal(err)
		}
	}
}
