package config

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// testEnv sets the environment variables Default's secrets refer
// to, so that a file that leaves [nylas] alone is valid.
func testEnv(t *testing.T) {
	t.Helper()
	t.Setenv("NYLAS_API_KEY", "test-api-key")
	t.Setenv("NYLAS_WEBHOOK_SECRET", "test-webhook-secret")
	t.Setenv("CREDENTIALS_DIRECTORY", "")
}

// testUnset makes sure an environment variable is unset for the test
// and restored afterwards.
func testUnset(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}

// refsOnly returns c with every secret reduced to its reference,
// so that configurations can be compared without resolved values.
func refsOnly(c Config) Config {
	strip := func(s Secret) Secret { return Secret{ref: s.ref} }
	c.Nylas.APIKey = strip(c.Nylas.APIKey)
	c.Nylas.WebhookSecrets = slices.Clone(c.Nylas.WebhookSecrets)
	for i, s := range c.Nylas.WebhookSecrets {
		c.Nylas.WebhookSecrets[i] = strip(s)
	}
	c.CRM.APIKey = strip(c.CRM.APIKey)
	c.ATS.APIKey = strip(c.ATS.APIKey)
	c.Alerts = slices.Clone(c.Alerts)
	for i := range c.Alerts {
		c.Alerts[i].URL = strip(c.Alerts[i].URL)
		c.Alerts[i].Password = strip(c.Alerts[i].Password)
	}
	return c
}

// schemaKeys lists every TOML key of a Config type, tables
// included, as dotted keys ("server", "server.listen", "alert.url").
func schemaKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := prefix + f.Tag.Get("toml")
		keys = append(keys, name)
		ft := f.Type
		if ft.Kind() == reflect.Slice && !isText(ft.Elem()) && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !isText(ft) {
			keys = append(keys, schemaKeys(ft, name+".")...)
		}
	}
	return keys
}

// fileKeys returns the dotted keys a TOML document defines.
func fileKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var m map[string]any
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	var keys []string
	for _, k := range md.Keys() {
		if s := k.String(); !slices.Contains(keys, s) {
			keys = append(keys, s)
		}
	}
	return keys
}

// exampleBlock returns the commented-out example of config.example.toml
// that starts with the line "# "+first, with its "# " removed.
func exampleBlock(t *testing.T, example []byte, first string) string {
	t.Helper()
	var b strings.Builder
	in := false
	sc := bufio.NewScanner(bytes.NewReader(example))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# "+first) {
			in = true
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		t.Fatalf("config.example.toml has no commented %s example", first)
	}
	return b.String()
}

// testCertFile writes a self-signed CA certificate in PEM and returns
// its path.
func testCertFile(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "notekeeper test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleIsDefault(t *testing.T) {
	testEnv(t)
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("config.example.toml does not parse: %v", err)
	}
	want := Default()
	if !reflect.DeepEqual(refsOnly(got), refsOnly(want)) {
		t.Errorf("config.example.toml differs from Default:\n got %+v\nwant %+v", got, want)
	}
	// Every key of the schema is shown, except the arrays of tables
	// [[alert]], [[calendar]] and [[scheduler]], which are commented out
	// (an alert without a url, a calendar without a grant are invalid); and
	// nothing else.
	var schema []string
	for _, k := range schemaKeys(reflect.TypeFor[Config](), "") {
		if !commentedOut(k) {
			schema = append(schema, k)
		}
	}
	keys := fileKeys(t, data)
	for _, k := range schema {
		if !slices.Contains(keys, k) {
			t.Errorf("config.example.toml does not show key %s", k)
		}
	}
	for _, k := range keys {
		if !slices.Contains(schema, k) {
			t.Errorf("config.example.toml shows key %s, which Config does not have", k)
		}
	}
}

// commentedOut reports whether key belongs to an array of tables that
// config.example.toml shows only as commented-out examples.
func commentedOut(key string) bool {
	top, _, _ := strings.Cut(key, ".")
	return top == "alert" || top == "calendar" || top == "scheduler"
}

func TestExampleCommentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimPrefix(sc.Text(), "# ")
		key, rest, ok := strings.Cut(line, " = ")
		if !ok || strings.ContainsAny(key, " #[") {
			continue
		}
		if !strings.Contains(rest, " # ") && !strings.HasPrefix(sc.Text(), "# ") {
			t.Errorf("config.example.toml:%d: key %s has no comment", n, key)
		}
	}
}

func TestExampleAlerts(t *testing.T) {
	testEnv(t)
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXX")
	t.Setenv("ALERT_WEBHOOK_URL", "https://alerts.example.com/hook")
	t.Setenv("SMTP_PASSWORD", "smtp-password")
	example, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	alerts := exampleBlock(t, example, "[[alert]]")
	cfg, err := Parse([]byte(alerts))
	if err != nil {
		t.Fatalf("the commented [[alert]] examples do not parse: %v\n%s", err, alerts)
	}
	var types []string
	for _, a := range cfg.Alerts {
		types = append(types, a.Type)
	}
	if want := []string{"slack", "webhook", "email"}; !slices.Equal(types, want) {
		t.Errorf("alert types = %q, want %q", types, want)
	}
	// Together the examples show every alert key.
	keys := fileKeys(t, []byte(alerts))
	for _, k := range schemaKeys(reflect.TypeFor[Config](), "") {
		if strings.HasPrefix(k, "alert") && !slices.Contains(keys, k) {
			t.Errorf("config.example.toml has no example of %s", k)
		}
	}
}

// TestExampleNylasSide parses the commented [[calendar]] and [[scheduler]]
// examples of config.example.toml: they are valid once their grant is
// listed, and together they show every key of those tables.
func TestExampleNylasSide(t *testing.T) {
	testEnv(t)
	example, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	tables := exampleBlock(t, example, "[[calendar]]")
	cfg, err := Parse([]byte("[nylas]\ngrants = [\"GRANT_ID\"]\n" + tables))
	if err != nil {
		t.Fatalf("the commented [[calendar]] and [[scheduler]] examples do not parse: %v\n%s", err, tables)
	}
	if len(cfg.Calendars) != 1 || len(cfg.Schedulers) != 1 || len(cfg.Schedulers[0].Participants) != 2 {
		t.Errorf("examples hold %d calendars, %d schedulers, want 1 and 1 with 2 participants", len(cfg.Calendars), len(cfg.Schedulers))
	}
	keys := fileKeys(t, []byte(tables))
	for _, k := range schemaKeys(reflect.TypeFor[Config](), "") {
		if (strings.HasPrefix(k, "calendar") || strings.HasPrefix(k, "scheduler")) && !slices.Contains(keys, k) {
			t.Errorf("config.example.toml has no example of %s", k)
		}
	}
	// The examples show the defaults, except where they say otherwise.
	want := Calendar{}
	want.setDefaults()
	want.Grant = "GRANT_ID"
	if !reflect.DeepEqual(cfg.Calendars[0], want) {
		t.Errorf("[[calendar]] example differs from the defaults:\n got %+v\nwant %+v", cfg.Calendars[0], want)
	}
}

func TestDefaultRoundTrip(t *testing.T) {
	testEnv(t)
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(Default()); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("encoded Default does not parse: %v\n%s", err, buf.String())
	}
	if !reflect.DeepEqual(refsOnly(got), refsOnly(Default())) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v", got, Default())
	}
	if got.Nylas.APIKey.Value() != "test-api-key" || got.Nylas.WebhookSecrets[0].Value() != "test-webhook-secret" {
		t.Errorf("default secrets not resolved from the environment")
	}
}

func TestFull(t *testing.T) {
	testEnv(t)
	t.Setenv("NK_TEST_API_KEY", "api-key")
	t.Setenv("NK_TEST_WEBHOOK_NEW", "new-secret")
	t.Setenv("NK_TEST_WEBHOOK_OLD", "old-secret")
	t.Setenv("NK_TEST_CRM_KEY", "crm-key")
	t.Setenv("NK_TEST_SLACK_URL", "https://hooks.slack.com/services/T/B/X")
	t.Setenv("NK_TEST_SMTP_PASSWORD", "smtp-pw")
	testUnset(t, "NK_TEST_NEVER_SET")

	cfg, err := Load(filepath.Join("testdata", "full.toml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"data_dir", cfg.DataDir, "/srv/notekeeper"},
		{"internal_domains lower-cased", cfg.InternalDomains, []string{"example.com", "example.org"}},
		{"log", cfg.Log, Log{Level: "debug", Format: "json"}},
		{"domain lower-cased", cfg.Server.Domain, "notes.example.com"},
		{"public_url without trailing slash", cfg.Server.PublicURL, "https://notes.example.com"},
		{"max_body_bytes", cfg.Server.MaxBodyBytes, int64(1048576)},
		{"tls", cfg.TLS, TLS{Email: "ops@example.com", CA: "letsencrypt-staging", HTTPPort: 8080, HTTPSPort: 8443}},
		{"api_base without trailing slash", cfg.Nylas.APIBase, "https://api.eu.nylas.com"},
		{"api_key", cfg.Nylas.APIKey.Value(), "api-key"},
		{"webhook secrets", []string{cfg.Nylas.WebhookSecrets[0].Value(), cfg.Nylas.WebhookSecrets[1].Value()}, []string{"new-secret", "old-secret"}},
		{"media_hosts lower-cased", cfg.Nylas.MediaHosts, []string{"storage.googleapis.com", "127.0.0.1"}},
		{"allow_http_media", cfg.Nylas.AllowHTTPMedia, true},
		{"kinds", cfg.Archive.Kinds, []string{"recording", "transcript"}},
		{"at_risk", cfg.Archive.AtRisk.Duration, 48 * time.Hour},
		{"link_ttl", cfg.Archive.LinkTTL.Duration, 720 * time.Hour},
		{"keep_days", cfg.Archive.KeepDays, 90},
		{"disabled job", cfg.Jobs.Reconcile, ""},
		{"cron job", cfg.Jobs.Backup, "30 3 * * *"},
		{"tasks", cfg.Tasks, Tasks{Workers: 8, MaxAttempts: 20, Lease: Duration{5 * time.Minute}, BackoffBase: Duration{time.Second}, BackoffMax: Duration{30 * time.Minute}}},
		{"crm base_url", cfg.CRM.BaseURL, "https://crm.example.com"},
		{"crm api_key", cfg.CRM.APIKey.Value(), "crm-key"},
		{"disabled ats secret not resolved", cfg.ATS.APIKey.Value(), ""},
		{"alerts", len(cfg.Alerts), 3},
		{"slack url", cfg.Alerts[0].URL.Value(), "https://hooks.slack.com/services/T/B/X"},
		{"webhook kinds", cfg.Alerts[1].Kinds, []string{"archive.at_risk", "disk.low"}},
		{"email password", cfg.Alerts[2].Password.Value(), "smtp-pw"},
		{"email to", cfg.Alerts[2].To, []string{"ops@example.com", "oncall@example.org"}},
		{"admin users", cfg.Admin.Users, map[string]string{"alice": "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}},
		{"PublicURL", cfg.PublicURL(), "https://notes.example.com"},
		{"DBPath", cfg.DBPath(), "/srv/notekeeper/notekeeper.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}

// TestValid lists configurations near the edge of what is allowed.
func TestValid(t *testing.T) {
	testEnv(t)
	testUnset(t, "NK_TEST_UNSET_VAR")
	caRoot := testCertFile(t)
	tests := []struct {
		name  string
		input string
	}{
		{"empty file", ""},
		{"disabled crm does not resolve its secret", "[crm]\napi_key = \"env:NK_TEST_UNSET_VAR\"\n"},
		{"disabled jobs", "[jobs]\nrefresh_media = \"\"\nbackup = \"\"\n"},
		{"five-field cron spec", "[jobs]\nbackup = \"15 2 * * 0\"\n"},
		{"ACME over http on localhost", "[tls]\nca = \"http://localhost:14000/dir\"\n"},
		{"ACME directory URL", "[tls]\nca = \"https://acme.example.com/directory\"\nca_root = \"" + caRoot + "\"\n"},
		{"domain with custom ports", "[server]\ndomain = \"notes.example.com\"\n[tls]\nhttp_port = 8080\nhttps_port = 8443\n"},
		{"listen on all interfaces, port 0", "[server]\nlisten = \":0\"\n"},
		{"listen on IPv6", "[server]\nlisten = \"[::1]:8080\"\n"},
		{"public_url with a path", "[server]\npublic_url = \"http://proxy.internal/notekeeper\"\n"},
		{"media host IP", "[nylas]\nmedia_hosts = [\"127.0.0.1\", \"::1\"]\n"},
		{"literal secrets", "[nylas]\napi_key = \"literal-key\"\nwebhook_secrets = [\"a\", \"b\"]\n"},
		{"at_risk just below 14 days", "[archive]\nat_risk = \"335h59m\"\n"},
		{"link_ttl of one minute", "[archive]\nlink_ttl = \"1m\"\n"},
		{"max_body_bytes bounds", "[server]\nmax_body_bytes = 67108864\n"},
		{"email alert without AUTH", "[[alert]]\ntype = \"email\"\nsmtp_addr = \"localhost:25\"\nfrom = \"nk@localhost\"\nto = [\"ops@example.com\"]\n"},
		{"alert kinds", "[[alert]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9000/alerts\"\nkinds = [\"tls.failed\", \"grant.expired\"]\n"},
		{"inline alert array", "alert = [{type = \"slack\", url = \"https://hooks.slack.com/x\"}]\n"},
		{"vendor crm without base_url", "[crm]\nenabled = true\ntype = \"hubspot\"\napi_key = \"k\"\ncreate_contacts = true\ntasks_from_action_items = true\n"},
		{"salesforce crm", "[crm]\nenabled = true\ntype = \"salesforce\"\n[crm.salesforce]\nlogin_url = \"https://acme.my.salesforce.com/\"\nclient_id = \"id\"\nclient_secret = \"s\"\napi_version = \"v61.0\"\n"},
		{"disabled salesforce does not resolve its secret", "[crm]\ntype = \"salesforce\"\n[crm.salesforce]\nclient_secret = \"env:NK_TEST_UNSET_VAR\"\n"},
		{"salesforce crm does not resolve api_key", "[crm]\nenabled = true\ntype = \"salesforce\"\n[crm.salesforce]\nclient_id = \"id\"\nclient_secret = \"s\"\n"},
		{"greenhouse ats", "[ats]\nenabled = true\ntype = \"greenhouse\"\nuser_id = \"12345\"\n[ats.greenhouse]\nclient_id = \"id\"\nclient_secret = \"s\"\n"},
		{"lever ats", "[ats]\nenabled = true\ntype = \"lever\"\napi_key = \"k\"\nuser_id = \"u-1\"\nbase_url = \"https://api.sandbox.lever.co/v1\"\n"},
		{"ashby ats without user_id", "[ats]\nenabled = true\ntype = \"ashby\"\napi_key = \"k\"\n"},
		{"followup to all", "[followup]\nenabled = true\nto = \"all\"\nsubject = \"Meeting notes\"\n"},
		{"calendar with only a grant", "[nylas]\ngrants = [\"g1\"]\n[[calendar]]\ngrant = \"g1\"\n"},
		{"calendar sync off", "[nylas]\ngrants = [\"g1\"]\n[[calendar]]\ngrant = \"g1\"\nenabled = false\n"},
		{"two calendars of one grant", "[nylas]\ngrants = [\"g1\"]\n[[calendar]]\ngrant = \"g1\"\n[[calendar]]\ngrant = \"g1\"\ncalendar_id = \"team@example.com\"\nevent_selection = [\"all\"]\nparticipants_gte = 0\nparticipants_lte = 8\n"},
		{"calendar without transcription nor summary", "[nylas]\ngrants = [\"g1\"]\n[[calendar]]\ngrant = \"g1\"\ntranscription = false\nsummary = false\naction_items = false\n"},
		{"calendar silence bounds", "[nylas]\ngrants = [\"g1\"]\n[[calendar]]\ngrant = \"g1\"\nleave_after_silence_seconds = 10\n[[calendar]]\ngrant = \"g1\"\ncalendar_id = \"c2\"\nleave_after_silence_seconds = 3600\n"},
		{"calendar instructions of 1500 characters", "[nylas]\ngrants = [\"g1\"]\n[[calendar]]\ngrant = \"g1\"\nsummary_instructions = \"" + strings.Repeat("é", 1500) + "\"\n"},
		{"scheduler without slug", "[nylas]\ngrants = [\"g1\"]\n[[scheduler]]\nname = \"interviews\"\ngrant = \"g1\"\n[[scheduler.participant]]\nemail = \"a@example.com\"\norganizer = true\n"},
		{"two schedulers with a notetaker", "[nylas]\ngrants = [\"g1\", \"g2\"]\n" +
			"[[scheduler]]\nname = \"sales_demo\"\ngrant = \"g1\"\nslug = \"acme-demo\"\nconferencing = \"Zoom Meeting\"\n[[scheduler.participant]]\nemail = \"a@example.com\"\norganizer = true\n[[scheduler.participant]]\nemail = \"b@example.com\"\n[scheduler.notetaker]\nenabled = true\n" +
			"[[scheduler]]\nname = \"interviews\"\ngrant = \"g2\"\nslug = \"acme-interviews\"\navailability_method = \"collective\"\n[[scheduler.participant]]\nemail = \"c@example.com\"\norganizer = true\n"},
		{"admin users inline table", "[admin]\nusers = { bob = \"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\" }\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.input)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// TestInvalid parses every file of testdata/invalid: a configuration with a
// mistake. Its first lines say what the error must contain ("# want: …",
// one line each), how many problems it lists ("# problems: N", default 1),
// and the environment it is parsed in ("# env: NAME=value", "# unset:
// NAME"), on top of testEnv's. Other comments may follow them.
func TestInvalid(t *testing.T) {
	testEnv(t)
	testUnset(t, "NK_TEST_UNSET_VAR")
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid/*.toml: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".toml"), func(t *testing.T) {
			input, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			problems := 1
			for _, line := range strings.Split(string(input), "\n") {
				directive, arg, ok := strings.Cut(strings.TrimPrefix(line, "# "), ": ")
				if !strings.HasPrefix(line, "# ") || !ok || !slices.Contains([]string{"want", "problems", "env", "unset"}, directive) {
					break // the directives end at the first other line; a comment may follow
				}
				switch directive {
				case "want":
					want = append(want, arg)
				case "problems":
					if problems, err = strconv.Atoi(arg); err != nil {
						t.Fatalf("# problems: %v", err)
					}
				case "env":
					k, v, _ := strings.Cut(arg, "=")
					t.Setenv(k, v)
				case "unset":
					testUnset(t, arg)
				}
			}
			if len(want) == 0 {
				t.Fatal("the file has no \"# want: \" line")
			}
			wantText := strings.Join(want, "\n")
			cfg, err := Parse(input)
			if err == nil {
				t.Fatalf("Parse accepted the config; want error containing %q", wantText)
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Errorf("Parse returned a non-zero Config with its error")
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if !strings.Contains(err.Error(), wantText) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, wantText)
			}
			if len(cerr.Problems) != problems {
				t.Errorf("%d problems, want %d:\n%v", len(cerr.Problems), problems, err)
			}
		})
	}
}

func TestProblemsInFileOrder(t *testing.T) {
	testEnv(t)
	testUnset(t, "NYLAS_API_KEY")
	input := `bogus = 1
[archive]
concurrency = 0
[server]
listen = "nope"
max_body_bytes = "big"
[crm]
enabled = true
meetings_path = "meetings"
[[alert]]
type = "slack"
`
	_, err := Parse([]byte(input))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want *Error", err)
	}
	var keys []string
	for _, p := range cerr.Problems {
		keys = append(keys, p.Key)
	}
	want := []string{
		"bogus",
		"archive.concurrency",
		"server.listen",
		"server.max_body_bytes",
		"crm.meetings_path",
		"crm.base_url", // not in the file: after the rest of [crm]
		"crm.api_key",
		"alert[0].url",
		"nylas.api_key", // no [nylas] in the file: last
	}
	if !slices.Equal(keys, want) {
		t.Errorf("problem keys in order:\n got %q\nwant %q", keys, want)
	}
	if !strings.HasPrefix(err.Error(), "config: 9 problems:\n  bogus: unknown key\n  archive.concurrency: ") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"one problem", &Error{Problems: []Problem{{"server.max_body_bytes", "must be greater than 0"}}},
			"config: server.max_body_bytes: must be greater than 0"},
		{"several problems", &Error{Problems: []Problem{{"log.level", "bad"}, {"alert[1].url", "required"}}},
			"config: 2 problems:\n  log.level: bad\n  alert[1].url: required"},
		{"syntax error without key", &Error{Problems: []Problem{{"", "line 3: expected value"}}},
			"config: line 3: expected value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSecretResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	firstLine := write("multi", "first-line\nsecond-line\n")
	crlf := write("crlf", "windows-value\r\n")
	noNewline := write("bare", "bare-value")
	write("nylas_api_key", "credential-value\n")
	t.Setenv("NK_TEST_SECRET", "env-value")
	t.Setenv("NK_TEST_EMPTY", "")
	testUnset(t, "NK_TEST_UNSET_VAR")

	tests := []struct {
		name      string
		ref       string
		credsDir  string
		value     string // want Value after Resolve
		str       string // want String
		wantError string // substring; "" = no error
	}{
		{name: "literal", ref: "plain-literal", value: "plain-literal", str: "[literal]"},
		{name: "empty", ref: "", value: "", str: ""},
		{name: "env", ref: "env:NK_TEST_SECRET", value: "env-value", str: "env:NK_TEST_SECRET"},
		{name: "env set but empty", ref: "env:NK_TEST_EMPTY", value: "", str: "env:NK_TEST_EMPTY"},
		{name: "env unset", ref: "env:NK_TEST_UNSET_VAR", str: "env:NK_TEST_UNSET_VAR",
			wantError: "environment variable NK_TEST_UNSET_VAR is not set"},
		{name: "file first line only", ref: "file:" + firstLine, value: "first-line", str: "file:" + firstLine},
		{name: "file with CRLF", ref: "file:" + crlf, value: "windows-value", str: "file:" + crlf},
		{name: "file without newline", ref: "file:" + noNewline, value: "bare-value", str: "file:" + noNewline},
		{name: "file missing", ref: "file:" + dir + "/missing", str: "file:" + dir + "/missing",
			wantError: "read file:" + dir + "/missing: no such file or directory"},
		{name: "relative file under CREDENTIALS_DIRECTORY", ref: "file:nylas_api_key", credsDir: dir,
			value: "credential-value", str: "file:nylas_api_key"},
		{name: "relative file missing under CREDENTIALS_DIRECTORY", ref: "file:other", credsDir: dir, str: "file:other",
			wantError: "read file:other (" + dir + "/other): no such file or directory"},
		{name: "relative file without CREDENTIALS_DIRECTORY", ref: "file:nylas_api_key", str: "file:nylas_api_key",
			wantError: "file:nylas_api_key is a relative path but $CREDENTIALS_DIRECTORY is not set"},
		{name: "relative file leaving CREDENTIALS_DIRECTORY", ref: "file:../etc/passwd", credsDir: dir, str: "file:../etc/passwd",
			wantError: "file:../etc/passwd must name a file inside $CREDENTIALS_DIRECTORY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CREDENTIALS_DIRECTORY", tc.credsDir)
			var s Secret
			if err := s.UnmarshalText([]byte(tc.ref)); err != nil {
				t.Fatalf("UnmarshalText: %v", err)
			}
			err := s.Resolve()
			switch {
			case tc.wantError == "" && err != nil:
				t.Fatalf("Resolve: %v", err)
			case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)):
				t.Fatalf("Resolve error = %v, want %q", err, tc.wantError)
			}
			if tc.wantError == "" && s.Value() != tc.value {
				t.Errorf("Value() = %q, want %q", s.Value(), tc.value)
			}
			if s.String() != tc.str {
				t.Errorf("String() = %q, want %q", s.String(), tc.str)
			}
			if s.Ref() != tc.ref {
				t.Errorf("Ref() = %q, want %q", s.Ref(), tc.ref)
			}
		})
	}
}

func TestSecretFileMissingIsNotExist(t *testing.T) {
	s := Secret{ref: "file:/nonexistent/notekeeper-test/secret"}
	if err := s.Resolve(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve error = %v, want one matching fs.ErrNotExist", err)
	}
}

func TestSecretFromCredentialsDirectory(t *testing.T) {
	testEnv(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nylas_api_key"), []byte("from-credential\nignored\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	cfg, err := Parse([]byte("[nylas]\napi_key = \"file:nylas_api_key\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Nylas.APIKey.Value(); got != "from-credential" {
		t.Errorf("api_key = %q, want %q", got, "from-credential")
	}
}

func TestSecretNeverLeaks(t *testing.T) {
	testEnv(t)
	dir := t.TempDir()
	const (
		literalKey = "LEAK-literal-api-key-7f3a"
		envSecret  = "LEAK-env-webhook-41b2"
		fileSecret = "LEAK-file-webhook-99d0"
		slackURL   = "https://hooks.slack.com/services/T0/B0/LEAK-slack-token"
		smtpPass   = "LEAK-smtp-password-5e1c"
		crmKey     = "LEAK-crm-key-0a0a"
	)
	secretFile := filepath.Join(dir, "webhook")
	if err := os.WriteFile(secretFile, []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NK_TEST_WEBHOOK", envSecret)
	input := fmt.Sprintf(`[nylas]
api_key = %q
webhook_secrets = ["env:NK_TEST_WEBHOOK", "file:%s"]
[crm]
enabled = true
base_url = "https://crm.example.com"
api_key = %q
[[alert]]
type = "slack"
url = %q
[[alert]]
type = "email"
smtp_addr = "smtp.example.com:587"
username = "nk"
password = %q
from = "nk@example.com"
to = ["ops@example.com"]
`, literalKey, secretFile, crmKey, slackURL, smtpPass)
	cfg, err := Parse([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	// The values are there...
	if cfg.Nylas.APIKey.Value() != literalKey || cfg.Nylas.WebhookSecrets[0].Value() != envSecret ||
		cfg.Nylas.WebhookSecrets[1].Value() != fileSecret || cfg.Alerts[0].URL.Value() != slackURL ||
		cfg.Alerts[1].Password.Value() != smtpPass || cfg.CRM.APIKey.Value() != crmKey {
		t.Fatal("secrets not resolved")
	}

	// ...but no way of printing the Config shows them.
	var jsonLog, textLog bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&jsonLog, nil), slog.NewTextHandler(&textLog, nil)} {
		logger := slog.New(h)
		logger.Info("config loaded", "config", cfg, "api_key", cfg.Nylas.APIKey, slog.Any("secrets", cfg.Nylas.WebhookSecrets))
	}
	jsonCfg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var tomlCfg bytes.Buffer
	if err := toml.NewEncoder(&tomlCfg).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"slog JSON":   jsonLog.String(),
		"slog text":   textLog.String(),
		"json":        string(jsonCfg),
		"toml":        tomlCfg.String(),
		"fmt %v":      fmt.Sprintf("%v", cfg),
		"fmt %+v":     fmt.Sprintf("%+v", cfg),
		"fmt %#v":     fmt.Sprintf("%#v", cfg),
		"fmt %s":      fmt.Sprintf("%s", cfg.Nylas.APIKey),
		"fmt %q":      fmt.Sprintf("%q", cfg.Alerts[0].URL),
		"fmt %d":      fmt.Sprintf("%d", cfg.Alerts[1].Password),
		"fmt %x":      fmt.Sprintf("%x", cfg.CRM.APIKey),
		"String":      cfg.Nylas.APIKey.String() + cfg.Alerts[0].URL.String(),
		"MarshalText": func() string { b, _ := cfg.Alerts[1].Password.MarshalText(); return string(b) }(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "LEAK-") {
			t.Errorf("%s output contains a secret value:\n%s", name, out)
		}
	}
	// The check above would pass on empty output: make sure the secrets were
	// printed, as their references.
	for _, want := range []string{`"[literal]"`, `"env:NK_TEST_WEBHOOK"`, `"file:` + secretFile + `"`} {
		if !strings.Contains(jsonLog.String(), want) {
			t.Errorf("slog JSON output lacks %s:\n%s", want, jsonLog.String())
		}
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	testEnv(t)
	t.Setenv("NK_TEST_BAD_URL", "not-a-url-LEAK-env")
	input := `[[alert]]
type = "slack"
url = "ftp://LEAK-host/LEAK-token"
[[alert]]
type = "webhook"
url = "http://[LEAK-bracket"
[[alert]]
type = "webhook"
url = "env:NK_TEST_BAD_URL"
[[alert]]
type = "webhook"
url = "https://alerts.example.com/x"
password = "LEAK-password-on-webhook"
[nylas]
api_key = "LEAK-key"
webhook_secrets = ["LEAK-secret", 7]
`
	_, err := Parse([]byte(input))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if len(cerr.Problems) != 5 {
		t.Errorf("%d problems, want 5:\n%v", len(cerr.Problems), err)
	}
	if strings.Contains(err.Error(), "LEAK") {
		t.Errorf("error message contains a secret value:\n%v", err)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"hours", 72 * time.Hour, "72h"},
		{"minutes", 30 * time.Minute, "30m"},
		{"hours and minutes", 90 * time.Minute, "1h30m"},
		{"minutes and seconds", 90 * time.Second, "1m30s"},
		{"seconds", 5 * time.Second, "5s"},
		{"sub-second", 500 * time.Millisecond, "500ms"},
		{"zero", 0, "0s"},
		{"negative", -90 * time.Minute, "-1h30m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Duration{tc.d}.MarshalText()
			if err != nil || string(b) != tc.want {
				t.Fatalf("MarshalText = %q, %v; want %q", b, err, tc.want)
			}
			var back Duration
			if err := back.UnmarshalText(b); err != nil || back.Duration != tc.d {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back.Duration, err, tc.d)
			}
		})
	}
	var d Duration
	if err := d.UnmarshalText([]byte("3 days")); err == nil || !strings.Contains(err.Error(), `"3 days"`) {
		t.Errorf("UnmarshalText(\"3 days\") error = %v, want it to quote the value", err)
	}
}

func TestPublicURL(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default listen", func(*Config) {}, "http://127.0.0.1:8080"},
		{"listen on all interfaces", func(c *Config) { c.Server.Listen = ":9000" }, "http://localhost:9000"},
		{"listen on 0.0.0.0", func(c *Config) { c.Server.Listen = "0.0.0.0:9000" }, "http://localhost:9000"},
		{"listen on [::]", func(c *Config) { c.Server.Listen = "[::]:9000" }, "http://localhost:9000"},
		{"listen on IPv6 loopback", func(c *Config) { c.Server.Listen = "[::1]:9000" }, "http://[::1]:9000"},
		{"listen on a host name", func(c *Config) { c.Server.Listen = "nk.internal:80" }, "http://nk.internal:80"},
		{"domain on 443", func(c *Config) { c.Server.Domain = "notes.example.com" }, "https://notes.example.com"},
		{"domain on another port", func(c *Config) {
			c.Server.Domain = "notes.example.com"
			c.TLS.HTTPSPort = 8443
		}, "https://notes.example.com:8443"},
		{"public_url wins over domain", func(c *Config) {
			c.Server.Domain = "notes.example.com"
			c.Server.PublicURL = "https://proxy.example.com/notekeeper"
		}, "https://proxy.example.com/notekeeper"},
		{"public_url trailing slash", func(c *Config) { c.Server.PublicURL = "https://proxy.example.com/" }, "https://proxy.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			if got := c.PublicURL(); got != tc.want {
				t.Errorf("PublicURL() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDBPath(t *testing.T) {
	c := Default()
	if got, want := c.DBPath(), "/var/lib/notekeeper/notekeeper.db"; got != want {
		t.Errorf("DBPath() = %q, want %q", got, want)
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name, env, want string
	}{
		{"unset", "", "/etc/notekeeper/config.toml"},
		{"from environment", "/srv/nk.toml", "/srv/nk.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NOTEKEEPER_CONFIG", tc.env)
			if got := DefaultPath(); got != tc.want {
				t.Errorf("DefaultPath() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "read config: ") {
		t.Errorf("Load(missing) error = %v, want a wrapped fs.ErrNotExist", err)
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := Default()
	a.Archive.Kinds[0] = "changed"
	a.Nylas.WebhookSecrets[0] = Secret{}
	a.Admin.Users["x"] = "y"
	b := Default()
	if b.Archive.Kinds[0] != "recording" || b.Nylas.WebhookSecrets[0].Ref() != "env:NYLAS_WEBHOOK_SECRET" || len(b.Admin.Users) != 0 {
		t.Error("Default shares state between calls")
	}
}

// s3Env sets the default [archive.s3] key variables.
var s3Env = map[string]string{"S3_ACCESS_KEY_ID": "AKIAEXAMPLE", "S3_SECRET_ACCESS_KEY": "secret-example"}

// s3Table is a valid s3 target configuration with key set to value.
func s3Table(key, value string) string {
	kv := map[string]string{"endpoint": `"https://s3.eu-west-1.amazonaws.com"`, "region": `"eu-west-1"`, "bucket": `"media"`}
	kv[key] = value
	out := "[archive]\ntarget = \"s3\"\n[archive.s3]\n"
	for _, k := range []string{"endpoint", "region", "bucket"} {
		out += k + " = " + kv[k] + "\n"
		delete(kv, k)
	}
	for k, v := range kv {
		out += k + " = " + v + "\n"
	}
	return out
}

func TestS3Valid(t *testing.T) {
	testEnv(t)
	for k, v := range s3Env {
		t.Setenv(k, v)
	}
	cfg, err := Parse([]byte(s3Table("sse", `"aws:kms:key-1"`) + "prefix = \"team/a/\"\npath_style = true\nstorage_class = \"STANDARD_IA\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Archive.S3
	if got.Endpoint != "https://s3.eu-west-1.amazonaws.com" || got.Bucket != "media" || got.Prefix != "team/a/" || !got.PathStyle ||
		got.StorageClass != "STANDARD_IA" || got.SSE != "aws:kms:key-1" || got.AccessKey.Value() != "AKIAEXAMPLE" || got.SecretKey.Value() != "secret-example" {
		t.Errorf("archive.s3 = %+v", got)
	}
}

func TestLoadUnresolved(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		wantErr string // "" for success
	}{
		{"unset variable and missing credential", `data_dir = "/srv/nk"
[nylas]
api_key = "env:NOTEKEEPER_TEST_UNSET_KEY"
webhook_secrets = ["file:/nonexistent/secret"]
[crm]
enabled = true
base_url = "https://crm.example.com"
api_key = "env:NOTEKEEPER_TEST_UNSET_CRM"
`, ""},
		{"other problems are still problems", `data_dir = "/srv/nk"
[backup]
keep = 0
`, "backup.keep"},
		{"unknown keys too", `data_dir = "/srv/nk"
colour = "blue"
`, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(path, []byte(tc.file), 0o600)
			cfg, err := LoadUnresolved(path)
			if tc.wantErr == "" {
				if err != nil || cfg.DataDir != "/srv/nk" || !cfg.CRM.Enabled {
					t.Fatalf("%+v %v", cfg.DataDir, err)
				}
				if _, err := Load(path); err == nil {
					t.Fatal("Load resolved secrets that do not exist")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestArrayTableDefaults checks that every [[calendar]], [[scheduler]] and
// [[scheduler.participant]] starts from its defaults, whatever its place.
func TestArrayTableDefaults(t *testing.T) {
	testEnv(t)
	cfg, err := Parse([]byte(`[nylas]
grants = ["g1", "g2"]
[[calendar]]
grant = "g1"
bot_name = "Acme Notes"
[[calendar]]
grant = "g2"
[[scheduler]]
name = "interviews"
grant = "g1"
[[scheduler.participant]]
email = "a@example.com"
organizer = true
[[scheduler.participant]]
email = "b@example.com"
calendar_id = "b-team"
[scheduler.notetaker]
enabled = false
[crm.salesforce]
login_url = "https://acme.my.salesforce.com/"
`))
	if err != nil {
		t.Fatal(err)
	}
	var cal Calendar
	cal.setDefaults()
	cal.Grant = "g2"
	var sched Scheduler
	sched.setDefaults()
	tests := []struct {
		name      string
		got, want any
	}{
		{"second calendar has every default", cfg.Calendars[1], cal},
		{"first calendar keeps its own bot_name", cfg.Calendars[0].BotName, "Acme Notes"},
		{"first calendar's other defaults", cfg.Calendars[0].LeaveAfterSilenceSeconds, 300},
		{"scheduler title", cfg.Schedulers[0].Title, sched.Title},
		{"scheduler duration", cfg.Schedulers[0].DurationMinutes, 45},
		{"scheduler method", cfg.Schedulers[0].AvailabilityMethod, "max-fairness"},
		{"notetaker defaults under a written table", cfg.Schedulers[0].Notetaker, Notetaker{Name: "Interview Recorder", ShowConsentMessage: true}},
		{"participant calendar_id default", cfg.Schedulers[0].Participants[0].CalendarID, "primary"},
		{"participant calendar_id set", cfg.Schedulers[0].Participants[1].CalendarID, "b-team"},
		{"login_url without trailing slash", cfg.CRM.Salesforce.LoginURL, "https://acme.my.salesforce.com"},
		{"crm type default", cfg.CRM.Type, "rest"},
		{"followup defaults", cfg.Followup, Followup{To: "internal", Subject: "Notes: {{title}}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}
