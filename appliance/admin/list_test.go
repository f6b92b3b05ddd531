package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// listUI is the admin UI over a store of many meetings and their index.
type listUI struct {
	DB  *store.DB
	URL string
}

// openListUI stores 60 finished sales meetings (one a day, ntDay00 the
// oldest; every tenth on legal hold; ntDay07 mentions "zeppelin" in its
// transcript), a bot that never got in, one still in its meeting and one
// whose CRM delivery dead-lettered.
func openListUI(t *testing.T) *listUI {
	t.Helper()
	db := storetest.MustOpen(t)
	dataDir := filepath.Dir(db.Path)
	day0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i := range 60 {
		id := fmt.Sprintf("ntDay%02d", i)
		starts := day0.AddDate(0, 0, i)
		text := "[00:00:05] Jo Park: We talked about the weather."
		if i == 7 {
			text = "[00:00:05] Jo Park: The zeppelin order is late."
		}
		dir, _ := archive.MediaDir(dataDir, id)
		if err := datadir.WriteFileAtomic(dir, "transcript.txt", []byte(text+"\n")); err != nil {
			t.Fatal(err)
		}
		man := &archive.Manifest{NotetakerID: id, Title: fmt.Sprintf("Call %02d", i), StartsAt: archive.Stamp{Time: starts},
			Participants: []archive.Participant{{Name: "Jo Park", Email: "jo@acme.example"}}, Files: map[string]archive.FileEntry{}}
		if err := archive.WriteManifest(dir, man); err != nil {
			t.Fatal(err)
		}
		_, err := db.UpdateNotetaker(id, func(nt *store.Notetaker) error {
			nt.State, nt.MeetingState, nt.MediaStatus, nt.ArchiveDone, nt.Hold = "attending", "recording_active", "available", true, i%10 == 0
			nt.Archived = map[string]store.ArchivedFile{"transcript": {Name: "transcript.json"}}
			nt.Meeting = store.Meeting{Title: man.Title, StartsAt: starts, EndsAt: starts.Add(time.Hour), Source: "event",
				Participants: []store.Participant{{Name: "Jo Park", Email: "jo@acme.example"}}, DescribedAt: starts}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			continue // its delivery dead-letters below
		}
		if err := db.PutCRMDelivery(id, &store.CRMDelivery{RecordID: "rec-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	for id, fn := range map[string]func(*store.Notetaker){
		"ntLobby01": func(nt *store.Notetaker) {
			nt.State, nt.MeetingState = "failed_entry", "entry_denied"
			nt.JoinTime = day0.AddDate(0, 0, 70)
		},
		"ntLive01": func(nt *store.Notetaker) {
			nt.State, nt.MeetingState = "attending", "recording_active"
			nt.JoinTime = day0.AddDate(0, 0, 71)
		},
	} {
		if _, err := db.UpdateNotetaker(id, func(nt *store.Notetaker) error { fn(nt); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	deadLetter(t, db, store.TaskRef{Kind: store.TaskCRM, Subject: "ntDay03"}, "crm: 400 no")

	ix := search.New(dataDir)
	if err := ix.Open(); err != nil {
		t.Fatal(err)
	}
	ix.Wait()
	t.Cleanup(func() { ix.Close() })
	ui, err := admin.New(admin.Config{DB: db, Users: testUsers(t), DataDir: dataDir, Logger: quiet, Search: ix})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	return &listUI{DB: db, URL: srv.URL}
}

func (u *listUI) get(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", u.URL+path, nil)
	req.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b.String())
	}
	return b.String()
}

func readAll(t *testing.T, resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// rowIDs lists the meeting rows of a list page, in order.
func rowIDs(page string) []string {
	var out []string
	for _, part := range strings.Split(page, `<tr id="m-`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

func TestMeetingList(t *testing.T) {
	ui := openListUI(t)
	cases := []struct {
		name     string
		path     string
		first    string // first row
		rows     int
		contains []string
		lacks    []string
	}{
		{name: "newest first, 50 a page", path: "/admin/meetings", rows: 50, // ntLive01 and ntLobby01 are seen in the same instant: either first
			contains: []string{"62 meetings", "page 1 of 2", `href="/admin/meetings?page=2" rel="next"`, "Call 59", "Sun 1 Mar 2026"}},
		{name: "second page", path: "/admin/meetings?page=2", first: "ntDay11", rows: 12,
			contains: []string{`rel="prev"`, "page 2 of 2"}},
		{name: "page past the end is the last", path: "/admin/meetings?page=99", first: "ntDay11", rows: 12},
		{name: "never got in", path: "/admin/meetings?state=never_in", first: "ntLobby01", rows: 1,
			contains: []string{"Never got in", "someone in the meeting denied it entry", "Nothing will be delivered"},
			lacks:    []string{"after the archive"}},
		{name: "still in the meeting", path: "/admin/meetings?state=in_meeting", first: "ntLive01", rows: 1,
			contains: []string{"In the meeting, recording"}},
		{name: "finished, not attending", path: "/admin/meetings?state=finished&from=2026-01-01&to=2026-01-01", first: "ntDay00", rows: 1,
			contains: []string{"Finished", "Archived"}, lacks: []string{">attending<", "recording_active</"}},
		{name: "failed deliveries", path: "/admin/meetings?delivery=failed", first: "ntDay03", rows: 1, contains: []string{"dead letter"}},
		{name: "date range", path: "/admin/meetings?from=2026-01-10&to=2026-01-12", first: "ntDay11", rows: 3},
		{name: "legal hold", path: "/admin/meetings?hold=on", first: "ntDay50", rows: 6, contains: []string{"legal hold"}},
		{name: "search", path: "/admin/meetings?q=zeppelin", first: "ntDay07", rows: 1,
			contains: []string{"<mark>zeppelin</mark>", `href="/admin/meetings/ntDay07?line=1&amp;q=zeppelin#line-1"`, "1 meeting matching"}},
		{name: "search and filter", path: "/admin/meetings?q=weather&hold=on", rows: 6}, // equal scores: any order,
		{name: "search finds nothing", path: "/admin/meetings?q=absentword", rows: 0, contains: []string{"No meeting matches."}},
		{name: "bad filter values are ignored", path: "/admin/meetings?from=yesterday&page=-3", rows: 50, contains: []string{"page 1 of 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page := ui.get(t, tc.path)
			ids := rowIDs(page)
			if len(ids) != tc.rows || tc.first != "" && ids[0] != tc.first {
				t.Fatalf("%d rows %v, want %d starting with %s", len(ids), ids, tc.rows, tc.first)
			}
			for _, want := range tc.contains {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, unwanted := range tc.lacks {
				if strings.Contains(page, unwanted) {
					t.Errorf("page has %q", unwanted)
				}
			}
		})
	}
}

// The meeting page marks the search words and the hit line.
func TestMeetingPage_SearchHit(t *testing.T) {
	ui := openListUI(t)
	page := ui.get(t, "/admin/meetings/ntDay07?q=zeppelin&line=1")
	for _, want := range []string{`<p class="line hit" id="line-1" data-t="5">`, "<mark>zeppelin</mark>", "Call 07", "Thu 8 Jan 2026, 10:00–11:00 UTC", "Jo Park"} {
		if !strings.Contains(page, want) {
			t.Errorf("meeting page lacks %q", want)
		}
	}
}
