package admin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/color"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/crm/rest"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/demo"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// The operator the tests log in as. The hash uses bcrypt's minimum cost so
// the tests stay fast; the code path is the same at any cost.
const (
	testUser     = "alice"
	testPassword = "correct horse battery staple"
	testSecret   = "admin-test-webhook-secret"
)

func testUsers(t testing.TB) map[string]string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{testUser: string(h)}
}

// quiet discards the appliance's logs: workers log after a test ends.
var quiet = slog.New(slog.DiscardHandler)

// fixture reads one of the appliance's Nylas fixtures.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mediaFile is one file the stand-in storage serves.
type mediaFile struct {
	name, contentType string
	data              []byte
}

func (f mediaFile) sha256() string {
	s := sha256.Sum256(f.data)
	return hex.EncodeToString(s[:])
}

// nylasStandIn is the far side of the Nylas API (calendar events) and of
// its signed media storage.
type nylasStandIn struct {
	api, storage *httptest.Server
	mu           sync.Mutex
	files        map[string]map[string]mediaFile // notetaker → kind → file
	events       map[string]string               // event ID → JSON of data
}

func newNylasStandIn(t *testing.T) *nylasStandIn {
	n := &nylasStandIn{files: map[string]map[string]mediaFile{}, events: map[string]string{}}
	n.storage = httptest.NewServer(http.HandlerFunc(n.serveStorage))
	n.api = httptest.NewServer(http.HandlerFunc(n.serveAPI))
	t.Cleanup(n.api.Close)
	t.Cleanup(n.storage.Close)
	return n
}

func (n *nylasStandIn) serveStorage(w http.ResponseWriter, r *http.Request) {
	id, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	n.mu.Lock()
	var file *mediaFile
	for _, f := range n.files[id] {
		if f.name == name {
			file = &f
		}
	}
	n.mu.Unlock()
	if file == nil || r.URL.Query().Get("X-Goog-Signature") != "ok" {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", file.contentType)
	http.ServeContent(w, r, file.name, time.Time{}, bytes.NewReader(file.data))
}

func (n *nylasStandIn) serveAPI(w http.ResponseWriter, r *http.Request) {
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/v3/"), "/")
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(p) == 4 && p[0] == "grants" && p[2] == "events" && n.events[p[3]] != "" {
		fmt.Fprintf(w, `{"request_id":"r","data":%s}`, n.events[p[3]])
		return
	}
	http.Error(w, `{"error":{"type":"not_found","message":"no route"}}`, http.StatusNotFound)
}

// addMeeting registers a sales meeting's five media files and its calendar
// event (the seed event, retitled), and returns the files by kind.
// With recordingBytes 0 the recording is a real, playable MP4 (the demo's)
// and the thumbnail a real PNG.
func (n *nylasStandIn) addMeeting(t *testing.T, id, eventID, title string, recordingBytes int) map[string]mediaFile {
	rec := make([]byte, recordingBytes)
	for i := range rec {
		rec[i] = byte(i*31) ^ byte(len(id))
	}
	thumb := []byte("\x89PNG\r\n\x1a\n" + strings.Repeat("x", 300))
	if recordingBytes == 0 {
		rec, thumb = demo.Recording(), demo.Thumbnail(color.RGBA{R: 36, G: 83, B: 199, A: 255})
	}
	files := map[string]mediaFile{
		"recording":    {"meeting_recording.mp4", "video/mp4", rec},
		"transcript":   {"transcript.json", "application/json", fixture(t, "transcript-speaker-labelled.json")},
		"summary":      {"meeting_summary.json", "application/json", []byte(`{"summary":"` + title + `: Jo wants to renew for two years."}`)},
		"action_items": {"meeting_action_items.json", "application/json", []byte(`["Send the renewal quote","Book a follow-up"]`)},
		"thumbnail":    {"thumbnail.png", "image/png", thumb},
	}
	var ev struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(fixture(t, "event-response.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Data["id"], ev.Data["title"] = eventID, title
	ev.Data["when"] = map[string]any{"object": "timespan", "start_time": meetingStart.Unix(), "end_time": meetingStart.Add(30 * time.Minute).Unix()}
	data, _ := json.Marshal(ev.Data)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.files[id] = files
	n.events[eventID] = string(data)
	return files
}

// meetingStart is when the stand-in's calendar events start.
var meetingStart = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// mediaAvailable is a signed-ready notetaker.media notification offering
// every kind of id.
func (n *nylasStandIn) mediaAvailable(id, eventID string) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	media := map[string]any{"recording_file_format": "mp4", "retained_until": time.Now().Add(13 * 24 * time.Hour).Unix()}
	for kind, f := range n.files[id] {
		media[kind] = n.storage.URL + "/" + id + "/" + f.name + "?X-Goog-Signature=ok"
	}
	return envelope("n-media-"+id, "notetaker.media", map[string]any{"id": id, "grant_id": "grant-a1b2c3",
		"object": "notetaker", "state": "available", "status": "available", "media": media,
		"event": map[string]string{"event_id": eventID}})
}

// envelope wraps a data.object in a Nylas notification.
func envelope(id, typ string, object map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": typ, "id": id, "time": time.Now().Unix(),
		"data": map[string]any{"application_id": "app-5f1c", "object": object}})
	return b
}

// crmStandIn is the far side of the CRM: contacts by e-mail, meeting
// records by ID. While failing holds a Notetaker ID, writes of its meeting
// are answered 400, which dead-letters the delivery at once.
type crmStandIn struct {
	srv      *httptest.Server
	mu       sync.Mutex
	failing  map[string]bool
	meetings map[string]map[string]any
}

func newCRMStandIn(t *testing.T) *crmStandIn {
	c := &crmStandIn{failing: map[string]bool{}, meetings: map[string]map[string]any{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *crmStandIn) setFailing(id string, failing bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failing[id] = failing
}

// recordFor returns the CRM record ID of a Notetaker's meeting, or "".
func (c *crmStandIn) recordFor(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for rid, m := range c.meetings {
		if m["external_notetaker_id"] == id {
			return rid
		}
	}
	return ""
}

func (c *crmStandIn) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/contacts/search":
		contacts := map[string]string{"jo@acme.example": `{"id":"c-jo","primary_deal_id":"deal-42"}`, "li@acme.example": `{"id":"c-li"}`}
		res := "[]"
		if ct, ok := contacts[r.URL.Query().Get("email")]; ok {
			res = "[" + ct + "]"
		}
		fmt.Fprintf(w, `{"results":%s}`, res)
	case r.Method == "GET" && r.URL.Path == "/api/meetings":
		res := []map[string]string{}
		for id, m := range c.meetings {
			if m["external_notetaker_id"] == r.URL.Query().Get("external_notetaker_id") {
				res = append(res, map[string]string{"id": id})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"results": res})
	case r.Method == "POST" && r.URL.Path == "/api/meetings":
		var m map[string]any
		json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&m)
		if id, _ := m["external_notetaker_id"].(string); c.failing[id] {
			http.Error(w, `{"error":"deal pipeline is locked"}`, http.StatusBadRequest)
			return
		}
		id := fmt.Sprintf("crm-%d", len(c.meetings)+1)
		c.meetings[id] = m
		json.NewEncoder(w).Encode(map[string]string{"id": id})
	default:
		http.NotFound(w, r)
	}
}

// app is a whole appliance over a real store in t.TempDir(): the server
// with its receiver, signed /files links and the admin UI, and the workers
// that record, archive, deliver to the CRM and dead-letter.
type app struct {
	DB      *store.DB
	Server  *appliance.Server
	DataDir string
	Index   *search.Index
}

func openApp(t *testing.T, nylasAPI, crmURL string) *app {
	t.Helper()
	db := storetest.MustOpen(t)
	a := &app{DB: db, DataDir: filepath.Dir(db.Path)}

	pool := appliance.NewPool(db)
	pool.BackoffBase, pool.BackoffMax = time.Millisecond, 10*time.Millisecond
	client := nylas.New(nylasAPI, "test-api-key")
	client.BackoffBase, client.BackoffMax = time.Millisecond, 5*time.Millisecond
	archiver := &appliance.Archiver{
		DB: db, Nylas: client,
		Fetcher:     &archive.Fetcher{AllowHTTP: true, MaxBytes: 1 << 30},
		DataDir:     a.DataDir,
		Kinds:       archive.Kinds,
		Concurrency: 2,
		DiskFree:    datadir.DiskFree,
		AtRisk:      72 * time.Hour,
		Logger:      quiet,
		Now:         time.Now,
	}
	a.Index = search.New(a.DataDir)
	if err := a.Index.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Index.Close() })
	archiver.Index = a.Index
	archiver.Register(pool)

	s := appliance.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Logger = quiet
	s.Receiver = &appliance.Receiver{DB: db, Verifier: appliance.NewVerifier(testSecret), MaxBodyBytes: 1 << 20, Logger: s.Logger}
	s.DataDir = a.DataDir
	s.Checks = []appliance.Check{{Name: "store", Fn: db.Ping}}
	if err := s.Open(); err != nil { // listen first: links are built on its URL
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) }) // before the store's cleanup
	signer := &links.Signer{Key: []byte("admin-test-link-key-0123456789"), BaseURL: s.URL(), TTL: time.Hour, Now: time.Now}
	s.Links = signer

	crm := &appliance.CRM{
		DB: db, Nylas: client, Connector: &rest.Connector{API: &outbound.Client{BaseURL: crmURL, APIKey: "crm-key"},
			ContactsSearchPath: "/api/contacts/search", MeetingsPath: "/api/meetings"},
		InternalDomains: []string{"your-company.example"}, Links: signer, DataDir: a.DataDir, Logger: quiet,
	}
	crm.Register(pool)
	archiver.OnArchived = appliance.RouteArchived(db, crm, nil)
	(&appliance.Records{DB: db, AfterNotetaker: archiver.Schedule}).Register(pool)
	pool.DeadLetterAlert = (&appliance.Alerter{DB: db, Logger: quiet}).DeadLetter
	if err := pool.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close(context.Background()) })

	ui, err := admin.New(admin.Config{DB: db, Users: testUsers(t), Links: signer, DataDir: a.DataDir,
		Status: statusOf(s, db, a.DataDir), Logger: quiet, Search: a.Index})
	if err != nil {
		t.Fatal(err)
	}
	s.Admin = ui
	a.Server = s
	return a
}

// statusOf gathers a Status the way the daemon does (status.go) from the
// pieces a test runs: readiness checks, disk, webhook state and counts.
func statusOf(s *appliance.Server, db *store.DB, dataDir string) func(context.Context) (*status.Status, error) {
	started := time.Now()
	return func(ctx context.Context) (*status.Status, error) {
		st := &status.Status{Version: "test", Daemon: true, StartedAt: started, URL: s.URL(), DataDir: dataDir, Ready: true}
		for _, c := range s.Checks {
			r := status.CheckResult{Name: c.Name, OK: true}
			if err := c.Fn(ctx); err != nil {
				r.OK, r.Error, st.Ready = false, err.Error(), false
			}
			st.Checks = append(st.Checks, r)
		}
		if free, err := datadir.DiskFree(dataDir); err == nil {
			st.DiskFreeBytes = int64(free)
		}
		var err error
		if st.Webhook, err = db.WebhookStatus(); err != nil {
			return nil, err
		}
		st.Counts, err = db.Counts()
		return st, err
	}
}

// post sends a signed notification and requires a 200.
func (a *app) post(t *testing.T, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.Server.URL()+"/webhooks/nylas", bytes.NewReader(body))
	req.Header.Set("X-Nylas-Signature", appliance.Sign(testSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
