package appliance_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

const (
	testSecret    = "test-secret-one"
	rotatedSecret = "test-secret-two"
	testMaxBody   = 64 << 10
)

// fixture returns the bytes of testdata/fixtures/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compact re-encodes JSON without white space, as Nylas sends it.
func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// testApp is a server, its store and (optionally) a worker pool, all real.
type testApp struct {
	DB     *store.DB
	Server *appliance.Server
	Pool   *appliance.Pool
}

// openApp starts a server on a free loopback port over a fresh store. With
// workers it also runs a pool with the record handlers.
func openApp(t *testing.T, workers bool) *testApp {
	t.Helper()
	db := storetest.MustOpen(t)
	app := &testApp{DB: db}
	if workers {
		app.Pool = appliance.NewPool(db)
		app.Pool.BackoffBase, app.Pool.BackoffMax = time.Millisecond, 10*time.Millisecond
		(&appliance.Records{DB: db}).Register(app.Pool)
		if err := app.Pool.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Pool.Close(context.Background()) })
	}
	s := appliance.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Receiver = &appliance.Receiver{
		DB:           db,
		Verifier:     appliance.NewVerifier(testSecret, rotatedSecret),
		MaxBodyBytes: testMaxBody,
		Logger:       s.Logger,
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	// Registered after the store's cleanup, so it runs before it.
	t.Cleanup(func() { s.Close(context.Background()) })
	app.Server = s
	return app
}

// post sends body to the webhook with the given headers and returns the
// status code and body.
func (a *testApp) post(t testing.TB, body []byte, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", a.Server.URL()+"/webhooks/nylas", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// postSigned posts body signed with testSecret.
func (a *testApp) postSigned(t testing.TB, body []byte) (int, string) {
	t.Helper()
	return a.post(t, body, map[string]string{"X-Nylas-Signature": appliance.Sign(testSecret, body)})
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drained reports whether the task queue is empty (all tasks completed).
func drained(db *store.DB) func() bool {
	return func() bool {
		tasks, err := db.Tasks()
		return err == nil && len(tasks) == 0
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
