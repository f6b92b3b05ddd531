package admin_test

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/store"
)

var olderLink = regexp.MustCompile(`href="(/admin/meetings\?page=[0-9]+)" rel="next"`)

// The meetings list shows 50 meetings a page, newest first, with a link to
// the next (older) page until the last; every meeting appears exactly once.
func TestMeetings_Pages(t *testing.T) {
	u := openSeededUI(t, testUsers(t))
	for i := range 119 { // plus the seeded one: 120
		if _, err := u.DB.UpdateNotetaker(fmt.Sprintf("ntPage%03d", i), func(*store.Notetaker) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	path := "/admin/meetings"
	var rows []int
	for path != "" {
		resp, body := u.get(t, path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		n := strings.Count(body, `<a class="title" href="/admin/meetings/`)
		rows = append(rows, n)
		for _, m := range regexp.MustCompile(`<a class="title" href="/admin/meetings/(nt\w+)">`).FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		path = ""
		if m := olderLink.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if fmt.Sprint(rows) != "[50 50 20]" {
		t.Errorf("rows per page %v, want [50 50 20]", rows)
	}
	if len(seen) != 120 {
		t.Errorf("%d distinct meetings listed, want 120", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
	if resp, body := u.get(t, "/admin/meetings?page=zz"); resp.StatusCode != 200 || !strings.Contains(body, "page 1 of 3") {
		t.Errorf("bad page number: %d, want 200 and the first page", resp.StatusCode)
	}
}
