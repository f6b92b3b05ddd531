package appliance_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// mediaFile is one file the fake storage serves.
type mediaFile struct {
	kind, name, contentType string
	data                    []byte
}

func (f mediaFile) sha() string {
	s := sha256.Sum256(f.data)
	return hex.EncodeToString(s[:])
}

// pattern returns n deterministic bytes.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

// meetingFiles are the five kinds of one meeting, recording of size n.
func meetingFiles(t *testing.T, n int, recordingType string) map[string]mediaFile {
	ext := map[string]string{"video/mp4": "mp4", "audio/mpeg": "mp3"}[recordingType]
	return map[string]mediaFile{
		"recording":    {"recording", "meeting_recording." + ext, recordingType, pattern(n, 1)},
		"transcript":   {"transcript", "transcript.json", "application/json", fixture(t, "transcript-speaker-labelled.json")},
		"summary":      {"summary", "meeting_summary.json", "application/json", []byte(`{"summary":"Jo wants to renew for two years."}`)},
		"action_items": {"action_items", "meeting_action_items.json", "application/json", []byte(`["Send the renewal quote","Book a follow-up"]`)},
		"thumbnail":    {"thumbnail", "thumbnail.png", "image/png", pattern(437, 9)},
	}
}

// fakeNylas stands in for the Nylas API and the signed media storage. Links
// carry a generation; only the current generation of a meeting's links is
// served, older ones answer 403 as expired signed URLs do. GET …/media mints a
// new generation.
type fakeNylas struct {
	t       *testing.T
	api     *httptest.Server
	storage *httptest.Server

	mu          sync.Mutex
	meetings    map[string]map[string]mediaFile // notetaker → kind → file
	gen         map[string]int                  // notetaker → current link generation
	grantOf     map[string]string               // notetaker → grant ("" = standalone)
	listed      map[string][]string             // grant → notetakers the list endpoint returns
	mediaCalls  []string                        // paths of media endpoint calls
	storageHits []string                        // storage request paths with their queries
	cutAfter    int                             // when > 0, cut the recording body after this many bytes, once
	expiresAt   int64
	webhooks    map[string]string // destination ID → status
	events      map[string]string // event ID → JSON of data
	eventCalls  []string          // escaped paths + queries of event lookups
}

func newFakeNylas(t *testing.T) *fakeNylas {
	f := &fakeNylas{t: t, meetings: map[string]map[string]mediaFile{}, gen: map[string]int{},
		grantOf: map[string]string{}, listed: map[string][]string{}, webhooks: map[string]string{}, events: map[string]string{}, expiresAt: time.Now().Add(14 * 24 * time.Hour).Unix()}
	f.storage = httptest.NewServer(http.HandlerFunc(f.serveStorage))
	f.api = httptest.NewServer(http.HandlerFunc(f.serveAPI))
	t.Cleanup(f.api.Close)
	t.Cleanup(f.storage.Close)
	return f
}

// add registers a meeting's files under grant ("" for a standalone bot).
func (f *fakeNylas) add(id, grant string, files map[string]mediaFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meetings[id], f.grantOf[id], f.gen[id] = files, grant, 1
}

// url is the current signed link of one kind.
func (f *fakeNylas) url(id, kind string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.urlLocked(id, kind)
}

func (f *fakeNylas) urlLocked(id, kind string) string {
	return fmt.Sprintf("%s/%s/%s?X-Goog-Signature=gen%d", f.storage.URL, id, f.meetings[id][kind].name, f.gen[id])
}

// expire makes every link minted so far for id invalid.
func (f *fakeNylas) expire(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen[id]++
}

func (f *fakeNylas) serveStorage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
		f.t.Errorf("storage request %s carries credentials", r.URL.Path)
		http.Error(w, "no", http.StatusBadRequest)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	f.storageHits = append(f.storageHits, r.URL.RequestURI())
	if len(parts) != 2 {
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	files, gen := f.meetings[parts[0]], f.gen[parts[0]]
	var file *mediaFile
	for _, mf := range files {
		if mf.name == parts[1] {
			file = &mf
		}
	}
	cut := 0
	if file != nil && file.kind == "recording" && f.cutAfter > 0 {
		cut, f.cutAfter = f.cutAfter, 0
	}
	f.mu.Unlock()
	if file == nil {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("X-Goog-Signature") != fmt.Sprintf("gen%d", gen) {
		http.Error(w, "<Error><Code>ExpiredToken</Code></Error>", http.StatusForbidden)
		return
	}
	if cut > 0 && r.Header.Get("Range") == "" {
		// Announce the whole file, send part of it, drop the connection.
		w.Header().Set("Content-Type", file.contentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(file.data)))
		w.WriteHeader(http.StatusOK)
		w.Write(file.data[:cut])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", file.contentType)
	http.ServeContent(w, r, file.name, time.Time{}, strings.NewReader(string(file.data)))
}

// serveAPI answers the media endpoint (grant and standalone) and the
// Notetaker list.
func (f *fakeNylas) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer test-api-key" {
		http.Error(w, `{"error":{"type":"unauthorized","message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/v3/"), "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(p) == 4 && p[0] == "grants" && p[2] == "events":
		f.eventCalls = append(f.eventCalls, r.URL.RequestURI())
		ev, ok := f.events[p[3]]
		if !ok {
			http.Error(w, `{"error":{"type":"not_found","message":"no event"}}`, http.StatusNotFound)
			return
		}
		io.WriteString(w, `{"request_id":"r","data":`+ev+`}`)
	case len(p) == 2 && p[0] == "webhooks" && f.webhooks[p[1]] != "":
		json.NewEncoder(w).Encode(map[string]any{"request_id": "r", "data": map[string]any{"id": p[1], "status": f.webhooks[p[1]]}})
	case len(p) == 4 && p[0] == "grants" && p[2] == "notetakers" && p[3] == "" || len(p) == 3 && p[0] == "grants" && p[2] == "notetakers":
		var items []map[string]any
		for _, id := range f.listed[p[1]] {
			items = append(items, map[string]any{"id": id, "grant_id": p[1], "state": "media_available",
				"event": map[string]string{"event_id": "evt-" + id}})
		}
		json.NewEncoder(w).Encode(map[string]any{"request_id": "r", "data": items, "next_cursor": ""})
	case len(p) == 5 && p[0] == "grants" && p[2] == "notetakers" && p[4] == "media" && f.grantOf[p[3]] == p[1],
		len(p) == 3 && p[0] == "notetakers" && p[2] == "media" && f.grantOf[p[1]] == "":
		id := p[len(p)-2]
		files, ok := f.meetings[id]
		if !ok {
			http.Error(w, `{"error":{"type":"not_found","message":"no such notetaker"}}`, http.StatusNotFound)
			return
		}
		f.mediaCalls = append(f.mediaCalls, r.URL.Path)
		f.gen[id]++
		data := map[string]any{}
		for kind, mf := range files {
			data[kind] = map[string]any{"url": f.urlLocked(id, kind), "name": mf.name, "type": mf.contentType,
				"size": len(mf.data), "created_at": time.Now().Unix(), "expires_at": f.expiresAt, "ttl": 3600}
		}
		json.NewEncoder(w).Encode(map[string]any{"request_id": "r", "data": data})
	default:
		http.Error(w, `{"error":{"type":"not_found","message":"no route"}}`, http.StatusNotFound)
	}
}

// mediaNotification is a notetaker.media available notification for id,
// sent now, with links to the kinds given (current generation).
func (f *fakeNylas) mediaNotification(notificationID, id, grant, state, format string, kinds ...string) []byte {
	media := map[string]any{"recording_file_format": format, "retained_until": time.Now().Add(14 * 24 * time.Hour).Unix()}
	for _, k := range kinds {
		media[k] = f.url(id, k)
	}
	obj := map[string]any{"id": id, "object": "notetaker", "state": state, "status": state, "media": media,
		"event": map[string]string{"event_id": "evt-" + id}}
	if grant != "" {
		obj["grant_id"] = grant
	}
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": "notetaker.media", "id": notificationID,
		"time": time.Now().Unix(), "data": map[string]any{"object": obj}})
	return b
}
