package config

import (
	"reflect"
	"strconv"
	"strings"
)

// SecretRef is one secret of a Config: its full key ("crm.api_key",
// "alert[0].password") and what the file says it is (Secret.String: a
// reference such as env:NAME or file:/path, never the value).
type SecretRef struct{ Key, Ref string }

// SecretRefs lists every non-empty secret of c in the order of the schema,
// found by walking Config, so a secret added to the schema is listed
// without a change here.
func SecretRefs(c Config) []SecretRef {
	var out []SecretRef
	secretType := reflect.TypeFor[Secret]()
	var walk func(v reflect.Value, key string)
	walk = func(v reflect.Value, key string) {
		switch {
		case v.Type() == secretType:
			if s := v.Interface().(Secret); s.String() != "" {
				out = append(out, SecretRef{key, s.String()})
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				name := v.Type().Field(i).Tag.Get("toml")
				walk(v.Field(i), strings.TrimPrefix(key+"."+name, "."))
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), key+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(reflect.ValueOf(c), "")
	return out
}

// SecretInUse reports whether the secret at key is read: those of a
// disabled [crm] or [ats], or of an unused [archive.s3], are not.
func SecretInUse(c Config, key string) bool {
	switch {
	case strings.HasPrefix(key, "crm."):
		return c.CRM.Enabled
	case strings.HasPrefix(key, "ats."):
		return c.ATS.Enabled
	case strings.HasPrefix(key, "archive.s3."):
		return c.Archive.S3Used()
	}
	return true
}
