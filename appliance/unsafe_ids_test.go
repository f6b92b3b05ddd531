package appliance_test

import (
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/store"
)

// quarantined counts the quarantine bucket.
func quarantined(t *testing.T, db *store.DB) int {
	t.Helper()
	q, err := db.QuarantinedRequests()
	if err != nil {
		t.Fatal(err)
	}
	return len(q)
}

// TestEnvelopeID_InvalidUTF8IsNotDeduplicated is issue 18 #4: two envelope
// IDs differing only in an invalid byte were both read as "evt-\uFFFD", and
// the second notification was answered duplicate and lost. Both are 400 and
// quarantined, as is an ID whose escapes are lone surrogates.
func TestEnvelopeID_InvalidUTF8IsNotDeduplicated(t *testing.T) {
	app := openApp(t, false)
	for i, raw := range []string{"evt-\xff", "evt-\xfe", `evt-\ud800`, `evt-\udc00`, "evt-\xed\xa0\x80"} {
		body := []byte(`{"id":"` + raw + `","type":"grant.updated","data":{"object":{"grant_id":"g1"}}}`)
		status, resp := app.postSigned(t, body)
		if status != 400 {
			t.Errorf("id %q: status %d %s, want 400", raw, status, resp)
		}
		if n := quarantined(t, app.DB); n != i+1 {
			t.Errorf("id %q: %d quarantined, want %d", raw, n, i+1)
		}
	}
	if n, _ := app.DB.CountNotifications(); n != 0 {
		t.Errorf("%d notifications stored, want 0", n)
	}
}

// TestEnvelopeID_FormatCharactersRefused is issue 18 #6: bidi controls and
// other format characters (unicode.Cf) and C1 controls are not printable:
// an envelope id or type holding one is 400 and quarantined, like a C0
// control.
func TestEnvelopeID_FormatCharactersRefused(t *testing.T) {
	app := openApp(t, false)
	n := 0
	for _, r := range []string{`\u202e`, `\u202a`, `\u2066`, `\u200b`, `\u200e`, `\u061c`, `\ufeff`, `\u00ad`, `\u0085`, `\u2028`, `\u0007`} {
		for _, field := range []string{"id", "type"} {
			id, typ := "evt-ok", "grant.updated"
			if field == "id" {
				id = "evt-" + r + "gpj.exe"
			} else {
				typ = "grant." + r + "updated"
			}
			body := []byte(`{"id":"` + id + `","type":"` + typ + `","data":{"object":{"grant_id":"g1"}}}`)
			status, _ := app.postSigned(t, body)
			n++
			if status != 400 {
				t.Errorf("%s with %s: status %d, want 400", field, r, status)
			}
			if got := quarantined(t, app.DB); got != n {
				t.Errorf("%s with %s: %d quarantined, want %d", field, r, got, n)
			}
		}
	}
}

// TestNotetakerID_UnprintableIsAlerted is issue 18 #5 and #6: a Notetaker ID
// with a control, bidi or format character is never used (no task, no path)
// but, like every unsafe ID, it is named, escaped, in an archive.failed
// alert; the notification is stored and answered 200.
func TestNotetakerID_UnprintableIsAlerted(t *testing.T) {
	for _, tc := range []struct{ name, raw, shown string }{
		{"bell", `nt\u0007bell`, `nt\abell`},
		{"newline", `nt\nline`, `nt\nline`},
		{"right-to-left override", `nt\u202egnp.exe`, `nt\u202egnp.exe`},
		{"zero-width space", `nt\u200bx`, `nt\u200bx`},
		{"C1 control", `nt\u0085x`, `nt\u0085x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := openApp(t, true)
			body := []byte(`{"id":"evt-` + tc.name + `","type":"notetaker.media","data":{"object":{"id":"` + tc.raw +
				`","state":"available","media":{"recording":"https://storage.example/r.mp4"}}}}`)
			if status, resp := app.postSigned(t, body); status != 200 {
				t.Fatalf("status %d %s, want 200", status, resp)
			}
			if n, _ := app.DB.CountNotifications(); n != 1 {
				t.Fatalf("%d notifications stored, want 1", n)
			}
			alerts, _ := app.DB.Alerts()
			if len(alerts) != 1 || alerts[0].Kind != "archive.failed" || !strings.Contains(alerts[0].Message, tc.shown) {
				t.Fatalf("alerts %+v, want one archive.failed naming %s", alerts, tc.shown)
			}
			for _, s := range []string{alerts[0].Subject, alerts[0].Message} {
				if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
					t.Errorf("alert text %q is not escaped", s)
				}
			}
			tasks, _ := app.DB.Tasks()
			if len(tasks) != 0 {
				t.Errorf("tasks %v for an unusable ID", tasks)
			}
		})
	}
}
