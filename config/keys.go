package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// Keys: how problems name them ("alert[1].url", "admin.users.\"bob:ops\""),
// and the hint an unknown key gets: the key of the same table it is one
// typo away from, else the other tables that have it.

// unknown reports an unknown key, suggesting the closest known one.
func (l *loader) unknown(key string, tk toml.Key, k string, names []string) {
	l.reported[tk.String()] = true
	// Suggest a key one edit away (two for longer keys); an edit is an
	// insertion, deletion, substitution or swap of adjacent letters.
	best, bestDist := "", 2
	if len(k) > 4 {
		bestDist = 3
	}
	for _, n := range names {
		d := editDistance(strings.ToLower(k), n)
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" {
		l.fail(key, fmt.Sprintf("unknown key (did you mean %q?)", best))
		return
	}
	if elsewhere := otherSections(strings.Join(tk[:len(tk)-1], "."), k); elsewhere != "" {
		l.fail(key, fmt.Sprintf("unknown key (did you mean %s?)", elsewhere))
		return
	}
	l.fail(key, "unknown key")
}

// section is one table of the schema: its dotted TOML path ("" for the top
// level, "archive.s3", "scheduler.participant"), how it is written
// ("[archive.s3]", "[[alert]]") and its keys.
type section struct {
	path, header string
	keys         []string
}

// schema lists the tables of Config in the order of its fields.
var schema = sync.OnceValue(func() []section {
	var out []section
	var walk func(t reflect.Type, path, header string)
	walk = func(t reflect.Type, path, header string) {
		sec := section{path: path, header: header}
		type sub struct {
			t            reflect.Type
			path, header string
		}
		var subs []sub
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("toml")
			sec.keys = append(sec.keys, name)
			p := strings.TrimPrefix(path+"."+name, ".")
			switch ft := f.Type; {
			case ft.Kind() == reflect.Struct && !isText(ft):
				subs = append(subs, sub{ft, p, "[" + p + "]"})
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !isText(ft.Elem()):
				subs = append(subs, sub{ft.Elem(), p, "[[" + p + "]]"})
			}
		}
		out = append(out, sec)
		for _, s := range subs {
			walk(s.t, s.path, s.header)
		}
	}
	walk(reflect.TypeFor[Config](), "", "")
	return out
})

// otherSections describes where else the schema has key k, for a key written
// in the wrong table: "[nylas] api_key", "[crm] api_key or [ats] api_key",
// "data_dir at the top of the file (before any [table])". It returns "" when
// no other table (or more than three) has it.
func otherSections(path, k string) string {
	var where []string
	for _, sec := range schema() {
		if sec.path == path || !slices.Contains(sec.keys, strings.ToLower(k)) {
			continue
		}
		if sec.header == "" {
			where = append(where, strings.ToLower(k)+" at the top of the file (before any [table])")
		} else {
			where = append(where, sec.header+" "+strings.ToLower(k))
		}
	}
	switch len(where) {
	case 0:
		return ""
	case 1:
		return where[0]
	case 2, 3:
		return strings.Join(where[:len(where)-1], ", ") + " or " + where[len(where)-1]
	}
	return ""
}

// joinKey appends a TOML key piece to one of our keys, quoting it as
// TOML does when it is not a bare key.
func joinKey(key, piece string) string {
	q := toml.Key{piece}.String()
	if key == "" {
		return q
	}
	return key + "." + q
}

// appendKey returns a copy of tk with piece appended.
func appendKey(tk toml.Key, piece string) toml.Key {
	return append(slices.Clip(tk), piece)
}

// parentKey returns the key a key belongs to: "alert[0]" for
// "alert[0].url", "alert" for "alert[0]", "" for a top-level key.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i > 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and
// b: the number of single-byte insertions, deletions, substitutions and
// swaps of adjacent bytes that turn a into b.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
