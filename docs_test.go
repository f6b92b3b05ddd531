package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The documentation checks: README.md and docs/*.md link only to files and
// headings that exist, name only configuration keys config.example.toml has,
// refer to no contract outside the repository, and the README stays short.
// docs/development.md ("Writing the docs") tells authors how to write keys
// so that these checks see them.

// readmeMaxBytes is the README's budget: a few screens.
const readmeMaxBytes = 15 * 1024

// notKeys are code spans that look like configuration keys but are not:
// alert kinds that start like a table, and how a literal secret is shown.
var notKeys = []string{"archive.at_risk", "archive.failed", "tls.failed", "[literal]"}

// docFiles are the Markdown files the checks read.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, files...)
}

// mdDoc is a Markdown file split into what the checks need: its prose lines
// (fenced code blocks removed) and its headings' anchors.
type mdDoc struct {
	prose   []string // line number - 1 → line, "" inside a fenced block
	anchors map[string]bool
}

// paragraph is prose lines up to a blank line (or a table row, heading or
// list item of its own), joined with spaces so that a code span or a link
// that wraps reads as one; line is where it starts (1-based).
type paragraph struct {
	line int
	text string
}

// paragraphs joins d's prose into paragraphs.
func (d *mdDoc) paragraphs() []paragraph {
	var out []paragraph
	var cur []string
	start := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, paragraph{start, strings.Join(cur, " ")})
		}
		cur = nil
	}
	for i, line := range d.prose {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
			continue
		case strings.HasPrefix(t, "|"), strings.HasPrefix(t, "#"), strings.HasPrefix(t, "- "),
			strings.HasPrefix(t, "* "), listItemRE.MatchString(t):
			flush()
		}
		if len(cur) == 0 {
			start = i + 1
		}
		cur = append(cur, t)
		if strings.HasPrefix(t, "|") || strings.HasPrefix(t, "#") {
			flush()
		}
	}
	flush()
	return out
}

var (
	fenceRE    = regexp.MustCompile("^\\s*(```|~~~)")
	headingRE  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	codeSpanRE = regexp.MustCompile("`+([^`]+)`+")
	linkRE     = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	anchorDrop = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	listItemRE = regexp.MustCompile(`^\d+\. `)
)

// readMarkdown reads path into an mdDoc.
func readMarkdown(t *testing.T, path string) *mdDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &mdDoc{anchors: map[string]bool{}}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if fenceRE.MatchString(line) {
			inFence = !inFence
			d.prose = append(d.prose, "")
			continue
		}
		if inFence {
			d.prose = append(d.prose, "")
			continue
		}
		d.prose = append(d.prose, line)
		if m := headingRE.FindStringSubmatch(line); m != nil {
			a := anchor(m[1])
			if n := seen[a]; n > 0 {
				d.anchors[fmt.Sprintf("%s-%d", a, n)] = true
			} else {
				d.anchors[a] = true
			}
			seen[a]++
		}
	}
	return d
}

// anchor is GitHub's anchor of a heading: lower case, markup and
// punctuation other than '-' and '_' dropped, spaces as '-'.
func anchor(heading string) string {
	h := strings.ToLower(heading)
	h = linkRE.ReplaceAllStringFunc(h, func(s string) string { return s[strings.Index(s, "[")+1 : strings.Index(s, "]")] })
	h = anchorDrop.ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

func TestDocs_Links(t *testing.T) {
	docs := map[string]*mdDoc{}
	load := func(p string) *mdDoc {
		if docs[p] == nil {
			docs[p] = readMarkdown(t, p)
		}
		return docs[p]
	}
	for _, file := range docFiles(t) {
		for _, p := range load(file).paragraphs() {
			text := codeSpanRE.ReplaceAllString(p.text, "")
			for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, frag, _ := strings.Cut(target, "#")
				resolved := file
				if path != "" {
					resolved = filepath.Clean(filepath.Join(filepath.Dir(file), path))
				}
				where := fmt.Sprintf("%s:%d: %s", file, p.line, target)
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s: no such file %s", where, resolved)
					continue
				}
				if frag != "" && strings.HasSuffix(resolved, ".md") && !load(resolved).anchors[frag] {
					t.Errorf("%s: %s has no heading with anchor #%s", where, resolved, frag)
				}
			}
		}
	}
}

// exampleSchema is what config.example.toml shows, commented-out example
// tables included: table path ("" for the top level, "archive.s3",
// "scheduler.participant") → key → its value as written.
type exampleSchema map[string]map[string]string

var (
	exampleHeaderRE = regexp.MustCompile(`^\[\[?([a-z0-9_.]+)\]\]?\s*(#.*)?$`)
	exampleKeyRE    = regexp.MustCompile(`^([a-z_]+)\s*=\s*(.*?)\s*(#.*)?$`)
	commentedRE     = regexp.MustCompile(`^#\s+(\[|[a-z_]+\s*=)`)
)

func readExample(t *testing.T) exampleSchema {
	t.Helper()
	f, err := os.Open("config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := exampleSchema{"": {}}
	table := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if commentedRE.MatchString(line) {
			line = strings.TrimSpace(line[1:])
		}
		if m := exampleHeaderRE.FindStringSubmatch(line); m != nil {
			table = m[1]
			if s[table] == nil {
				s[table] = map[string]string{}
			}
		} else if m := exampleKeyRE.FindStringSubmatch(line); m != nil {
			if _, ok := s[table][m[1]]; !ok {
				s[table][m[1]] = m[2]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// top reports whether name is the first part of a table of the schema.
func (s exampleSchema) top(name string) bool {
	for table := range s {
		if table != "" && strings.Split(table, ".")[0] == name {
			return true
		}
	}
	return false
}

// has reports whether the dotted key path (indexes removed) names a table or
// a key of the schema; a name below a key whose value is an inline table
// (`admin.users.bob`) counts as that key.
func (s exampleSchema) has(path string) bool {
	if _, ok := s[path]; ok {
		return true
	}
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		table, key := strings.Join(parts[:i], "."), parts[i]
		if v, ok := s[table][key]; ok {
			return i == len(parts)-1 || strings.HasPrefix(v, "{")
		}
	}
	return false
}

var (
	// `[section]`, `[[section]] key`, `[section] key = value`
	sectionKeyRE = regexp.MustCompile(`^\[\[?([a-z0-9_.]+)\]\]?(?:\s+([a-z_]+)(?:\s*=.*)?)?$`)
	// `section.key`, `alert[1].url`, `section.key = value`
	dottedKeyRE = regexp.MustCompile(`^([a-z_0-9]+(?:\[\d+\])?(?:\.[a-z_0-9]+(?:\[\d+\])?)+)(?:\s*=.*)?$`)
	indexRE     = regexp.MustCompile(`\[\d+\]`)
	// file names such as crm.go or archive.json are not keys
	fileNameRE = regexp.MustCompile(`\.(go|md|json|toml|txt|sh|ya?ml|db|key|crt|png|jpg|mp4|mp3|gz|sock)$`)
)

// configKey returns the key path a code span names, if it names one: the
// table, or table.key.
func (s exampleSchema) configKey(span string) (string, bool) {
	span = strings.TrimSpace(span)
	if slices.Contains(notKeys, span) {
		return "", false
	}
	if m := sectionKeyRE.FindStringSubmatch(span); m != nil {
		return strings.TrimSuffix(m[1]+"."+m[2], "."), true
	}
	if m := dottedKeyRE.FindStringSubmatch(span); m != nil && !fileNameRE.MatchString(m[1]) {
		path := indexRE.ReplaceAllString(m[1], "")
		parts := strings.Split(path, ".")
		// Three parts or more are a key only below a real sub-table or
		// inline-table key (archive.s3.bucket, admin.users.bob); vendor
		// names such as HubSpot's scope crm.objects.contacts.read are not.
		if len(parts) >= 3 {
			if _, sub := s[parts[0]+"."+parts[1]]; !sub && !strings.HasPrefix(s[parts[0]][parts[1]], "{") {
				return "", false
			}
		}
		if s.top(parts[0]) {
			return path, true
		}
	}
	return "", false
}

func TestDocs_ConfigKeys(t *testing.T) {
	schema := readExample(t)
	for _, file := range docFiles(t) {
		for _, p := range readMarkdown(t, file).paragraphs() {
			for _, m := range codeSpanRE.FindAllStringSubmatch(p.text, -1) {
				if key, ok := schema.configKey(m[1]); ok && !schema.has(key) {
					t.Errorf("%s:%d: `%s` names %s, which config.example.toml does not have", file, p.line, m[1], key)
				}
			}
		}
	}
}

// TestDocs_ConfigReference: docs/configuration.md names every key of
// config.example.toml, each in the table of its section.
func TestDocs_ConfigReference(t *testing.T) {
	schema := readExample(t)
	documented := exampleSchema{}
	table := ""
	rowRE := regexp.MustCompile("^\\| `([a-z_]+)` \\|")
	for _, line := range readMarkdown(t, "docs/configuration.md").prose {
		if m := headingRE.FindStringSubmatch(line); m != nil {
			table = "-" // a heading that is not a table's
			if m[1] == "Top level" {
				table = ""
			} else if sm := sectionKeyRE.FindStringSubmatch(strings.Trim(m[1], "`")); sm != nil && sm[2] == "" {
				table = sm[1]
			}
			continue
		}
		if m := rowRE.FindStringSubmatch(line); m != nil && table != "-" {
			if documented[table] == nil {
				documented[table] = map[string]string{}
			}
			documented[table][m[1]] = ""
		}
	}
	for table, keys := range schema {
		for key := range keys {
			if _, ok := documented[table][key]; !ok {
				t.Errorf("docs/configuration.md has no row for %s in the table of [%s]", key, table)
			}
		}
	}
	for table, keys := range documented {
		for key := range keys {
			if _, ok := schema[table][key]; !ok {
				t.Errorf("docs/configuration.md documents %s in [%s], which config.example.toml does not have", key, table)
			}
		}
	}
}

// TestDocs_ContractInRepository: no file of the repository (documents,
// code comments, test data notes, scripts) refers to a contract or facts
// file outside it: the repository documents its own contract in docs/.
func TestDocs_ContractInRepository(t *testing.T) {
	outside := regexp.MustCompile(`\bSPEC\b|SPEC\.md|§|\bshared/|[A-Z]+-APIS\.md|NYLAS(-PROVISIONING)?\.md`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "artifacts") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".toml", ".sh", ".yaml", ".service":
		default:
			return nil
		}
		if path == "docs_test.go" {
			return nil // the pattern above
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d: %q refers to a document outside the repository; point at docs/ instead", path, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDocs_ReadmeSize(t *testing.T) {
	fi, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > readmeMaxBytes {
		t.Errorf("README.md is %d bytes, over its budget of %d: move a section to docs/", fi.Size(), readmeMaxBytes)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDocs_Checker: the checks' own rules, on made-up input.
func TestDocs_Checker(t *testing.T) {
	schema := exampleSchema{"": {"data_dir": `""`}, "archive": {"keep_days": "0"}, "archive.s3": {"bucket": `""`},
		"alert": {"url": `""`}, "admin": {"users": "{}"}}
	for _, tc := range []struct {
		span string
		key  string // "" = not a key
		ok   bool   // the key exists
	}{
		{"[archive] keep_days", "archive.keep_days", true},
		{"[archive] keep_days = 30", "archive.keep_days", true},
		{"[archive] keep_day", "archive.keep_day", false},
		{"[archive.s3]", "archive.s3", true},
		{"[archive.s4]", "archive.s4", false},
		{"archive.s3.bucket", "archive.s3.bucket", true},
		{"alert[1].url", "alert.url", true},
		{"[[alert]] url", "alert.url", true},
		{"admin.users.bob", "admin.users.bob", true},
		{"archive.keep_days = 0", "archive.keep_days", true},
		{"archive.at_risk", "", false},
		{"config.example.toml", "", false},
		{"notetaker.media", "", false},
		{"crm.go", "", false},
		{"crm.objects.contacts.read", "", false},
		{"archive.s3.buckett", "archive.s3.buckett", false},
		{"[literal]", "", false},
		{"[Service]", "", false},
	} {
		t.Run(tc.span, func(t *testing.T) {
			key, isKey := schema.configKey(tc.span)
			if key != tc.key || isKey != (tc.key != "") {
				t.Fatalf("configKey(%q) = %q, %v; want %q", tc.span, key, isKey, tc.key)
			}
			if isKey && schema.has(key) != tc.ok {
				t.Fatalf("has(%q) = %v, want %v", key, !tc.ok, tc.ok)
			}
		})
	}
	for heading, want := range map[string]string{
		"Object storage (S3)":                  "object-storage-s3",
		"The `rest` CRM":                       "the-rest-crm",
		"`[archive.s3]`":                       "archives3",
		"Install on a Debian or Ubuntu server": "install-on-a-debian-or-ubuntu-server",
		"[docs/crm.md](x) links":               "docscrmmd-links",
	} {
		if got := anchor(heading); got != want {
			t.Errorf("anchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

// TestDocs_ReadmeTestCommand: the README's test command is the one .ci/run
// runs last (the line after its "== tests" banner).
func TestDocs_ReadmeTestCommand(t *testing.T) {
	ci := strings.Split(string(must(os.ReadFile(".ci/run"))), "\n")
	cmd := ""
	for i, line := range ci {
		if strings.HasPrefix(line, `echo "== tests`) && i+1 < len(ci) {
			cmd = strings.TrimSpace(ci[i+1])
		}
	}
	if !strings.HasPrefix(cmd, "go test ") {
		t.Fatalf(".ci/run has no go test line after its \"== tests\" banner (found %q)", cmd)
	}
	readme := string(must(os.ReadFile("README.md")))
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cmd) + `(\s|$)`).MatchString(readme) {
		t.Errorf("README.md does not show .ci/run's test command %q at the start of a line", cmd)
	}
}
