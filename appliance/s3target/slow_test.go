package s3target_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/s3target"
	"github.com/notekeeper/notekeeper/appliance/s3target/s3test"
)

// slowBucket is an HTTP proxy in front of versitygw that holds every
// request for delay before passing it on, or, with stall set, never answers
// (until the client gives up). The Host header is kept, so the client's
// signatures still verify.
type slowBucket struct {
	*httptest.Server
	delay    atomic.Int64 // nanoseconds
	stall    atomic.Bool
	stallPut atomic.Bool // stall only the uploads of data (PUT), not reading their bodies
	requests atomic.Int32
	quit     chan struct{} // closed at cleanup: stalled handlers return
}

func newSlowBucket(t *testing.T, target string) *slowBucket {
	u, _ := url.Parse(target)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
	s := &slowBucket{quit: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.stall.Load() || s.stallPut.Load() && r.Method == http.MethodPut {
			select { // the body is not read: only a client-side deadline ends this
			case <-r.Context().Done():
			case <-s.quit:
			}
			return
		}
		select {
		case <-time.After(time.Duration(s.delay.Load())):
		case <-r.Context().Done():
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(s.quit); s.Close() })
	return s
}

// openSlow is a Bucket through the slow proxy, giving up on a connection
// that moves no byte for wait.
func openSlow(t *testing.T, proxy *slowBucket, wait time.Duration) *s3target.Bucket {
	t.Helper()
	b, err := s3target.New(s3target.Config{Endpoint: proxy.URL, Region: s3test.Region, Bucket: s3test.Bucket,
		Prefix: "slow/", AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, PathStyle: true, StallTimeout: wait})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSlowBucket: a bucket that answers every request 300 ms late still
// takes an upload (verified); one that stops answering fails every call
// with ErrUnreachable within its StallTimeout per try, so the archive
// task is postponed (see Archiver.UploadRecheck) instead of hanging.
func TestSlowBucket(t *testing.T) {
	srv := s3test.Start(t)
	proxy := newSlowBucket(t, srv.Endpoint())
	const wait = 500 * time.Millisecond
	b := openSlow(t, proxy, wait)
	ctx := context.Background()
	path, e := bigFile(t, 3<<20)
	key := b.Key("ntSlow1", "recording.mp4")

	proxy.delay.Store(int64(300 * time.Millisecond))
	start := time.Now()
	if err := b.Upload(ctx, key, path, e); err != nil {
		t.Fatalf("upload through a slow bucket: %v", err)
	}
	if err := b.Check(ctx, key, e, true); err != nil {
		t.Fatalf("check through a slow bucket: %v", err)
	}
	t.Logf("slow bucket (300 ms a request): upload and verify took %v over %d requests", time.Since(start), proxy.requests.Load())

	// The server takes the upload's request line and headers, then stops
	// reading its 16 MiB part: only the stall deadline on writes ends it.
	proxy.delay.Store(0)
	proxy.stallPut.Store(true)
	big, bigEntry := bigFile(t, 20<<20)
	start = time.Now()
	err := b.Upload(ctx, b.Key("ntSlow3", "recording.mp4"), big, bigEntry)
	took := time.Since(start)
	t.Logf("bucket that stops reading an upload: %v after %v", err, took)
	if !errors.Is(err, archive.ErrUnreachable) || took > 10*wait+5*time.Second {
		t.Errorf("upload to a bucket that stops reading: %v after %v, want ErrUnreachable within %v", err, took, 10*wait+5*time.Second)
	}

	proxy.stall.Store(true)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"ping", func() error { return b.Ping(ctx) }},
		{"check", func() error { return b.Check(ctx, key, e, false) }},
		{"upload", func() error { return b.Upload(ctx, b.Key("ntSlow2", "recording.mp4"), path, e) }},
		{"manifest", func() error { return b.PutManifest(ctx, "ntSlow2", &archive.Manifest{NotetakerID: "ntSlow2"}) }},
	} {
		start := time.Now()
		err := tc.call()
		took := time.Since(start)
		t.Logf("stalled bucket, %s: %v after %v", tc.name, err, took)
		if !errors.Is(err, archive.ErrUnreachable) {
			t.Errorf("%s against a stalled bucket: %v, want ErrUnreachable", tc.name, err)
		}
		if limit := 5*wait + 3*time.Second; took > limit { // each of 4 tries waits StallTimeout, plus back-off
			t.Errorf("%s against a stalled bucket took %v, want at most %v", tc.name, took, limit)
		}
	}
}
