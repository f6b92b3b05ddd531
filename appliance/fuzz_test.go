package appliance_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/envelope"
	"github.com/notekeeper/notekeeper/store"
)

// addFixtureSeeds adds every fixture file as a seed.
func addFixtureSeeds(f *testing.F, add func(b []byte)) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	if len(files) == 0 {
		f.Fatal("no fixtures")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	addFixtureSeeds(f, func(b []byte) { f.Add(b) })
	for _, s := range []string{`{}`, `[]`, `null`, `{"id":1,"type":"x"}`, `{"id":"a","type":"b","data":{"object":null}}`,
		`{"id":"a","type":"b.truncated.transformed","data":{"object":{"id":"\u0000"}}}`, "{\"id\":\"a\x00\",\"type\":\"b\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := envelope.Parse(body)
		if err != nil {
			return
		}
		// What parses has what the store and the router rely on.
		if env.ID == "" || len(env.ID) > store.MaxEnvelopeIDLen || env.Type == "" {
			t.Fatalf("accepted envelope with id %q type %q", env.ID, env.Type)
		}
		if (env.Object == nil) == (env.ObjectErr == "") {
			t.Fatalf("object %q and error %q disagree", env.Object, env.ObjectErr)
		}
		if o := env.Object; o != nil {
			for _, raw := range []json.RawMessage{o.ID, o.BookingID, o.GrantID} {
				if raw != nil && !json.Valid(raw) {
					t.Fatalf("object field is not valid JSON: %q", raw)
				}
			}
		}
		base := envelope.BaseType(env.Type)
		if strings.HasSuffix(base, ".truncated") || strings.HasSuffix(base, ".transformed") {
			t.Fatalf("BaseType(%q) = %q still has a suffix", env.Type, base)
		}
		tasks, problem := envelope.Route(env)
		for _, task := range tasks {
			if task.Subject == "" || task.Kind == "" {
				t.Fatalf("empty task ref %+v", task)
			}
		}
		if len(tasks) > 0 && problem != "" {
			t.Fatalf("tasks and a problem at once: %v %q", tasks, problem)
		}
	})
}

func FuzzVerify(f *testing.F) {
	var v struct {
		Secret    string `json:"secret"`
		Body      string `json:"body"`
		Signature string `json:"x-nylas-signature"`
	}
	if err := json.Unmarshal(fixture(f, "signature-vector.json"), &v); err != nil {
		f.Fatal(err)
	}
	f.Add(v.Secret, []byte(v.Body), v.Signature)
	addFixtureSeeds(f, func(b []byte) { f.Add("secret", b, appliance.Sign("secret", b)) })
	f.Add("s", []byte{}, "")
	f.Fuzz(func(t *testing.T, secret string, body []byte, sig string) {
		ver := appliance.NewVerifier(secret)
		good := appliance.Sign(secret, body)
		if secret != "" && !ver.Verify(body, good) {
			t.Fatal("a correct signature was refused")
		}
		if ver.Verify(body, sig) && !strings.EqualFold(sig, good) {
			t.Fatalf("signature %q accepted, only %q is right", sig, good)
		}
		if secret == "" && ver.Verify(body, sig) {
			t.Fatal("an empty secret verified a signature")
		}
		if len(body) > 0 {
			flipped := bytes.Clone(body)
			flipped[0] ^= 1
			if ver.Verify(flipped, good) {
				t.Fatal("a changed body verified")
			}
		}
	})
}
