package appliance_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
)

func TestFiles_SignedLinks(t *testing.T) {
	fake := newFakeNylas(t)
	files := meetingFiles(t, 256<<10, "video/mp4")
	fake.add("ntLink1", "grant-1", files)
	fake.add("ntLink2", "grant-1", files)
	app := openArchiveApp(t, fake, nil)
	for _, id := range []string{"ntLink1", "ntLink2"} {
		app.postSigned(t, fake.mediaNotification("n-"+id, id, "grant-1", "available", "mp4", allKinds...))
		app.waitArchived(t, id)
	}
	key, err := links.LoadKey(app.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	signer := &links.Signer{Key: key, BaseURL: app.Server.URL(), TTL: time.Hour, Now: func() time.Time { return now }}
	app.Server.Links, app.Server.DataDir = signer, app.DataDir

	get := func(u string, header map[string]string) (int, []byte, http.Header) {
		req, _ := http.NewRequest("GET", u, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes(), resp.Header
	}
	rec := signer.URL("ntLink1", "recording.mp4")
	if !strings.HasPrefix(rec, app.Server.URL()+"/files/ntLink1/recording.mp4?exp=") {
		t.Fatalf("link %s", rec)
	}
	status, body, h := get(rec, nil)
	if status != 200 || !bytes.Equal(body, files["recording"].data) || h.Get("Content-Type") != "video/mp4" {
		t.Fatalf("full: %d, %d bytes, %q", status, len(body), h.Get("Content-Type"))
	}
	status, body, h = get(rec, map[string]string{"Range": "bytes=1000-1999"})
	if status != 206 || !bytes.Equal(body, files["recording"].data[1000:2000]) || h.Get("Content-Range") != "bytes 1000-1999/262144" {
		t.Fatalf("range: %d, %d bytes, %q", status, len(body), h.Get("Content-Range"))
	}
	if status, body, _ := get(signer.URL("ntLink1", "transcript.txt"), nil); status != 200 || !strings.Contains(string(body), "Jo Park") {
		t.Fatalf("transcript.txt: %d %q", status, body)
	}

	u, _ := url.Parse(rec)
	q := u.Query()
	tamper := func(f func(q url.Values, u *url.URL)) string {
		c := *u
		cq := url.Values{}
		for k, v := range q {
			cq[k] = append([]string(nil), v...)
		}
		f(cq, &c)
		c.RawQuery = cq.Encode()
		return c.String()
	}
	expired := &links.Signer{Key: key, BaseURL: app.Server.URL(), TTL: -time.Minute, Now: func() time.Time { return now }}
	otherKey := &links.Signer{Key: []byte("another key of sixteen+ bytes"), BaseURL: app.Server.URL(), TTL: time.Hour, Now: time.Now}
	cases := []struct {
		name string
		url  string
		want int
	}{
		{"signature flipped", tamper(func(q url.Values, _ *url.URL) { q.Set("sig", flipFirst(q.Get("sig"))) }), 403},
		{"expiry extended", tamper(func(q url.Values, _ *url.URL) { q.Set("exp", "99999999999") }), 403},
		{"no signature", tamper(func(q url.Values, _ *url.URL) { q.Del("sig") }), 403},
		{"another meeting's path", tamper(func(_ url.Values, c *url.URL) { c.Path = "/files/ntLink2/recording.mp4" }), 403},
		{"expired", expired.URL("ntLink1", "recording.mp4"), 403},
		{"signed with another key", otherKey.URL("ntLink1", "recording.mp4"), 403},
		{"valid link to the manifest", signer.URL("ntLink1", "manifest.json"), 404},
		{"valid link to a partial name", signer.URL("ntLink1", ".recording.mp4.partial"), 404},
		{"valid link to a missing meeting", signer.URL("ntNope", "recording.mp4"), 404},
		{"valid link with an unsafe id", signer.URL("..", "notekeeper.db"), 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if status, body, _ := get(tc.url, nil); status != tc.want {
				t.Fatalf("status %d (%s), want %d", status, body, tc.want)
			}
		})
	}
}

func TestLoadLinkKey_MadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	k1, err := links.LoadKey(dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("key %x %v", k1, err)
	}
	k2, _ := links.LoadKey(dir)
	if !bytes.Equal(k1, k2) {
		t.Fatal("key changed between loads")
	}
	fi, _ := os.Stat(filepath.Join(dir, datadir.LinkKeyFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, datadir.LinkKeyFile), []byte("zz\n"), 0o600)
	if _, err := links.LoadKey(dir); err == nil {
		t.Fatal("a corrupt key was accepted")
	}
}

// flipFirst changes the first character of a signature to another one.
func flipFirst(sig string) string {
	if sig[0] == '0' {
		return "1" + sig[1:]
	}
	return "0" + sig[1:]
}
