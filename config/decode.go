package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// loader holds the state of one Parse call.
type loader struct {
	md       toml.MetaData
	firstPos map[string]int  // dotted TOML key -> index of its first appearance in md.Keys()
	count    map[string]int  // dotted TOML key -> appearances (>1 inside [[alert]])
	start    map[string]int  // our key -> visit number, in file order
	end      map[string]int  // our key -> visit number after its children
	seq      int             // next visit number
	bad      map[string]bool // keys whose value could not be decoded or resolved
	reported map[string]bool // dotted TOML keys already reported as unknown or mistyped
	problems []Problem
	// unresolved: secrets are not resolved, so an empty one is no problem
	// (LoadUnresolved).
	unresolved bool
}

func newLoader() *loader {
	return &loader{
		firstPos: make(map[string]int),
		count:    make(map[string]int),
		start:    make(map[string]int),
		end:      make(map[string]int),
		bad:      make(map[string]bool),
		reported: make(map[string]bool),
	}
}

// decode parses data and walks it into cfg, recording every unknown key and
// wrong type. It returns an error only for a syntax error, which leaves
// nothing to walk.
func (l *loader) decode(data []byte, cfg *Config) error {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		msg := err.Error()
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg = fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return &Error{Problems: []Problem{{Message: msg}}}
	}
	l.md = md
	for i, k := range md.Keys() {
		s := k.String()
		if _, ok := l.firstPos[s]; !ok {
			l.firstPos[s] = i
		}
		l.count[s]++
	}
	l.table(top, reflect.ValueOf(cfg).Elem(), "", nil)

	// The walk above finds every unknown key itself (with array indices,
	// which Undecoded cannot give). Undecoded is the safety net: whatever the
	// decoder never handed to the walk is unknown too, unless it sits under a
	// key already reported.
	for _, k := range md.Undecoded() {
		if !l.underReported(k) {
			key := k.String()
			l.fail(key, "unknown key")
			l.reported[key] = true
		}
	}
	return nil
}

// underReported reports whether k or one of its parents was already reported.
func (l *loader) underReported(k toml.Key) bool {
	for i := len(k); i > 0; i-- {
		if l.reported[k[:i].String()] {
			return true
		}
	}
	return false
}

// enter and exit record the file order of the keys visited, for sorting
// problems.
func (l *loader) enter(key string) { l.start[key] = l.seq; l.seq++ }
func (l *loader) exit(key string)  { l.end[key] = l.seq }

// sortedKeys returns the keys of a table in the order they appear in the file.
func (l *loader) sortedKeys(m map[string]toml.Primitive, tk toml.Key) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	pos := func(k string) int {
		if p, ok := l.firstPos[appendKey(tk, k).String()]; ok {
			return p
		}
		return math.MaxInt
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := pos(keys[i]), pos(keys[j])
		if pi != pj {
			return pi < pj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// table decodes the TOML table m into the struct rv. key is our name of the
// table ("" at the top, "alert[0]" for an array entry), tk its TOML key.
func (l *loader) table(m map[string]toml.Primitive, rv reflect.Value, key string, tk toml.Key) {
	rt := rv.Type()
	fields := make(map[string]int, rt.NumField())
	names := make([]string, 0, rt.NumField())
	for i := range rt.NumField() {
		name := rt.Field(i).Tag.Get("toml")
		fields[name] = i
		names = append(names, name)
	}
	for _, k := range l.sortedKeys(m, tk) {
		fkey, ftk := joinKey(key, k), appendKey(tk, k)
		l.enter(fkey)
		if i, ok := fields[k]; ok {
			l.value(m[k], rv.Field(i), fkey, ftk)
		} else {
			l.unknown(fkey, ftk, k, names)
		}
		l.exit(fkey)
	}
}

// isText reports whether values of t are decoded from a TOML string
// through encoding.TextUnmarshaler (Secret, Duration).
func isText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// value decodes p into rv, which keeps its default when p has the wrong type.
// It reports whether p decoded cleanly; elements of arrays and maps are
// decoded one by one so that each bad one is named.
func (l *loader) value(p toml.Primitive, rv reflect.Value, key string, tk toml.Key) bool {
	t := rv.Type()
	switch {
	case isText(t):
		var s string
		if err := l.md.PrimitiveDecode(p, &s); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		nv := reflect.New(t)
		if err := l.md.PrimitiveDecode(p, nv.Interface()); err != nil {
			msg := strings.TrimPrefix(err.Error(), "toml: ")
			var pe toml.ParseError
			if errors.As(err, &pe) {
				msg = pe.Message
			}
			l.fail(key, msg+l.lineSuffix(err, tk))
			return false
		}
		rv.Set(nv.Elem())

	case t.Kind() == reflect.Struct:
		m, ok := l.tableOf(p, key, tk, t)
		if !ok {
			return false
		}
		l.table(m, rv, key, tk)

	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !isText(t.Elem()):
		var arr []map[string]toml.Primitive
		if err := l.md.PrimitiveDecode(p, &arr); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, m := range arr {
			ekey := fmt.Sprintf("%s[%d]", key, i)
			l.enter(ekey)
			if d, ok := s.Index(i).Addr().Interface().(defaulter); ok {
				d.setDefaults()
			}
			l.table(m, s.Index(i), ekey, tk)
			l.exit(ekey)
		}
		rv.Set(s)

	case t.Kind() == reflect.Slice:
		var arr []toml.Primitive
		if err := l.md.PrimitiveDecode(p, &arr); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		ok := true
		for i := range arr {
			ekey := fmt.Sprintf("%s[%d]", key, i)
			l.enter(ekey)
			ok = l.value(arr[i], s.Index(i), ekey, tk) && ok
			l.exit(ekey)
		}
		rv.Set(s) // bad elements stay zero and are marked bad
		return ok

	case t.Kind() == reflect.Map:
		m, ok := l.tableOf(p, key, tk, t)
		if !ok {
			return false
		}
		nm := reflect.MakeMapWithSize(t, len(m))
		for _, k := range l.sortedKeys(m, tk) {
			ekey, etk := joinKey(key, k), appendKey(tk, k)
			l.enter(ekey)
			ev := reflect.New(t.Elem()).Elem()
			if l.value(m[k], ev, ekey, etk) {
				nm.SetMapIndex(reflect.ValueOf(k), ev)
			} else {
				ok = false
			}
			l.exit(ekey)
		}
		rv.Set(nm)
		return ok

	default:
		nv := reflect.New(t)
		if err := l.md.PrimitiveDecode(p, nv.Interface()); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		rv.Set(nv.Elem())
	}
	return true
}

// defaulter is a table of an array of tables ([[calendar]], [[scheduler]])
// whose keys have defaults: setDefaults sets them before the file's keys are
// decoded over them.
type defaulter interface{ setDefaults() }

// tableOf decodes p as a TOML table, reporting any other type. (The toml
// package decodes a non-table into a map as an empty map, without error.)
func (l *loader) tableOf(p toml.Primitive, key string, tk toml.Key, t reflect.Type) (map[string]toml.Primitive, bool) {
	var raw any
	_ = l.md.PrimitiveDecode(p, &raw)
	var m map[string]toml.Primitive
	var err error
	if _, isTable := raw.(map[string]any); !isTable {
		// Decoding a non-table into a struct fails with an error that
		// carries the line.
		var probe struct{}
		err = l.md.PrimitiveDecode(p, &probe)
		if err == nil {
			err = errors.New("not a table")
		}
	} else {
		err = l.md.PrimitiveDecode(p, &m)
	}
	if err != nil {
		return nil, l.mistyped(p, key, tk, t, err)
	}
	return m, true
}

// mistyped reports a value of the wrong TOML type and returns false.
func (l *loader) mistyped(p toml.Primitive, key string, tk toml.Key, t reflect.Type, err error) bool {
	var raw any
	_ = l.md.PrimitiveDecode(p, &raw)
	l.reported[tk.String()] = true
	l.fail(key, fmt.Sprintf("must be %s, not %s%s", wantType(t), tomlType(raw), l.lineSuffix(err, tk)))
	return false
}

// lineSuffix returns " (line N)" for a decoding error, or "" when the line is
// unknown or ambiguous (a key repeated in several [[alert]] entries, where
// the toml package only remembers the last one).
func (l *loader) lineSuffix(err error, tk toml.Key) string {
	if l.count[tk.String()] > 1 {
		return ""
	}
	line := 0
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line = pe.Position.Line
	} else if rest, ok := strings.CutPrefix(err.Error(), "toml: line "); ok {
		n, _, _ := strings.Cut(rest, " ")
		line, _ = strconv.Atoi(n)
	}
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", line)
}

// wantType describes the TOML type a Go type is decoded from.
func wantType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return `a duration string such as "30m"`
	case isText(t), t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "an integer"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !isText(t.Elem()):
		return "an array of tables"
	case t.Kind() == reflect.Slice:
		return "an array"
	default:
		return "a table"
	}
}

// tomlType describes a decoded TOML value's type.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	default:
		return "a date/time"
	}
}

// fail records a problem and marks key bad, so validation does not report
// the default or zero value left in its place.
func (l *loader) fail(key, msg string) {
	l.problems = append(l.problems, Problem{Key: key, Message: msg})
	l.bad[key] = true
}

// add records a validation problem, unless key or a parent of it already
// failed to decode or resolve.
func (l *loader) add(key, format string, args ...any) {
	if l.isBad(key) {
		return
	}
	l.problems = append(l.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// isBad reports whether one of keys, or a parent of one, failed to decode or
// resolve: its value is a default the file did not ask for, so checks that
// read it would report problems the file does not have.
func (l *loader) isBad(keys ...string) bool {
	for _, key := range keys {
		for k := key; k != ""; k = parentKey(k) {
			if l.bad[k] {
				return true
			}
		}
	}
	return false
}

// defined reports whether key was written in the file.
func (l *loader) defined(key string) bool {
	_, ok := l.start[key]
	return ok
}

// sortProblems puts problems in file order. A problem about a key the file
// leaves out goes after its nearest table that is in the file, or at the end;
// the sort is stable, so validation order (which follows Config) breaks ties.
func (l *loader) sortProblems() {
	rank := func(key string) (int, int) {
		if key == "" {
			return -1, 0
		}
		if s, ok := l.start[key]; ok {
			return s, 0
		}
		for k := parentKey(key); k != ""; k = parentKey(k) {
			if e, ok := l.end[k]; ok {
				return e, -1
			}
		}
		return math.MaxInt, 0
	}
	sort.SliceStable(l.problems, func(i, j int) bool {
		a1, a2 := rank(l.problems[i].Key)
		b1, b2 := rank(l.problems[j].Key)
		if a1 != b1 {
			return a1 < b1
		}
		return a2 < b2
	})
}
