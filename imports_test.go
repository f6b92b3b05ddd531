package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// TestImportsPointOneWay checks the layout's dependency rules with the go
// tool alone (go list), over every package's non-test imports:
//
//   - no package imports its parent or any other ancestor: a child is a
//     leaf its parent builds on, never the reverse. Test helper packages
//     named *test (storetest, s3test, …) may import their parent, as
//     net/http/httptest does;
//   - store, tls, jobs and config import no other package of the project;
//   - nothing imports package main.
func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Name       string
		Module     struct{ Path string }
		Imports    []string
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	module := pkgs[0].Module.Path
	leaves := []string{"store", "tls", "jobs", "config"}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue // standard library or a dependency
			}
			irel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			switch {
			case imp == module:
				t.Errorf("%s imports package main", p.ImportPath)
			case strings.HasPrefix(p.ImportPath, imp+"/") &&
				!(strings.HasSuffix(p.Name, "test") && path.Dir(p.ImportPath) == imp):
				t.Errorf("%s imports its ancestor %s", rel, irel)
			}
			for _, leaf := range leaves {
				if (rel == leaf || strings.HasPrefix(rel, leaf+"/")) && !strings.HasPrefix(irel+"/", leaf+"/") {
					t.Errorf("%s imports %s: %s/ imports no other package of the project", rel, irel, leaf)
				}
			}
		}
	}
}
