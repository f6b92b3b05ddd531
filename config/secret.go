package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Secret is a configuration value that must not be shown: an API key, a
// webhook secret, a Slack URL, an SMTP password. In the file it is written as
//
//   - a literal: the value itself;
//   - "env:NAME": the value of environment variable NAME;
//   - "file:/path": the first line of a file, without its trailing "\n" or
//     "\r\n";
//   - "file:name" (relative): the first line of $CREDENTIALS_DIRECTORY/name,
//     the directory systemd fills from LoadCredential=; it is an error when
//     that variable is unset or name leaves the directory.
//
// A literal cannot start with "env:" or "file:"; put such a value in a file.
//
// String, Format, MarshalText and LogValue never return the value: they show
// the reference ("env:NAME", "file:/path"), "[literal]" for a literal, or ""
// when empty. Only Value does. The zero Secret is empty.
type Secret struct {
	ref   string // as written in the file
	value string // resolved; never printed
}

// Literal returns a Secret holding v as written, for a Config built in code
// (the demo, tests). Unlike a literal in a file, v is taken as it is even
// when it starts with "env:" or "file:".
func Literal(v string) Secret { return Secret{ref: v, value: v} }

// Value returns the secret itself: the literal, or what Resolve read. It is ""
// for an env: or file: reference that has not been resolved.
func (s Secret) Value() string { return s.value }

// Ref returns the secret as written in the file. For a literal that is the
// value itself: do not log it; log the Secret (or String) instead.
func (s Secret) Ref() string { return s.ref }

// String returns a description safe to log: "env:NAME", "file:/path",
// "[literal]", or "" for an empty secret.
func (s Secret) String() string {
	switch {
	case s.ref == "":
		return ""
	case s.isEnv(), s.isFile():
		return s.ref
	default:
		return "[literal]"
	}
}

// Format implements fmt.Formatter so that every verb, %d and %#v included,
// prints String and never the value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "Secret(%q)", s.String())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		io.WriteString(f, s.String())
	}
}

// LogValue implements slog.LogValuer: a Secret is logged as its String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler, used by the TOML and JSON
// encoders (and so by slog's JSON handler). It returns the reference for env:
// and file: secrets and "[literal]" for a literal: encoding a Config never
// writes a literal secret out.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It records the reference
// and, for a literal, the value; env: and file: references keep an empty
// value until Resolve. It fails on a malformed reference ("env:" with no
// valid variable name, "file:" with no path).
func (s *Secret) UnmarshalText(text []byte) error {
	ref := string(text)
	switch {
	case strings.HasPrefix(ref, "env:"):
		if name := ref[len("env:"):]; !isEnvName(name) {
			return fmt.Errorf("env:%s: not a valid environment variable name (letters, digits, _)", name)
		}
		*s = Secret{ref: ref}
	case strings.HasPrefix(ref, "file:"):
		if ref == "file:" {
			return errors.New("file: needs a path, e.g. file:/etc/notekeeper/api_key")
		}
		*s = Secret{ref: ref}
	default:
		*s = Secret{ref: ref, value: ref}
	}
	return nil
}

// Resolve reads the value the secret refers to. Environment variables are
// looked up with os.LookupEnv: an unset variable is an error, an empty one is
// not (validation reports empty secrets where a value is required). Errors
// name the variable or file, never a value.
func (s *Secret) Resolve() error {
	switch {
	case s.isEnv():
		name := strings.TrimPrefix(s.ref, "env:")
		v, ok := os.LookupEnv(name)
		if !ok {
			return &unsetEnvError{name}
		}
		s.value = v
	case s.isFile():
		v, err := readSecretFile(strings.TrimPrefix(s.ref, "file:"))
		if err != nil {
			return err
		}
		s.value = v
	default:
		s.value = s.ref
	}
	return nil
}

// unsetEnvError is Resolve's error for an env: secret whose variable is not
// set.
type unsetEnvError struct{ name string }

func (e *unsetEnvError) Error() string {
	return fmt.Sprintf("environment variable %s is not set", e.name)
}

// envHint says how to give the service the variable name that the secret at
// key refers to: in a root-only environment file or an Environment= line of
// a drop-in, as a systemd credential read with a relative file: reference,
// or in the shell that runs notekeeper. The paths are the Debian package's
// (/etc/notekeeper/credentials is root-only there).
func envHint(key, name string) string {
	cred := strings.ToLower(name)
	field, _, _ := strings.Cut(key[strings.LastIndexByte(key, '.')+1:], "[")
	ref := fmt.Sprintf("%q", "file:"+cred)
	if strings.HasSuffix(key, "]") {
		ref = "[" + ref + "]"
	}
	return fmt.Sprintf("set it for the service with `systemctl edit notekeeper`: [Service] EnvironmentFile=/etc/notekeeper/credentials/env "+
		"(a root-only file with the line %s=…) or Environment=%s=…; "+
		"or keep it as a systemd credential: LoadCredential=%s:/etc/notekeeper/credentials/%s there and %s = %s here "+
		"(check reads it with CREDENTIALS_DIRECTORY=/etc/notekeeper/credentials); "+
		"or run notekeeper with %s=… in its environment", name, name, cred, cred, field, ref, name)
}

func (s Secret) isEnv() bool  { return strings.HasPrefix(s.ref, "env:") }
func (s Secret) isFile() bool { return strings.HasPrefix(s.ref, "file:") }

// readSecretFile returns the first line of the file a file: secret
// names (p is the part after "file:").
func readSecretFile(p string) (string, error) {
	name, full := "file:"+p, p
	if !filepath.IsAbs(p) {
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" {
			return "", fmt.Errorf("%s is a relative path but $CREDENTIALS_DIRECTORY is not set (use an absolute path, or LoadCredential= in the systemd unit)", name)
		}
		if !filepath.IsLocal(p) {
			return "", fmt.Errorf("%s must name a file inside $CREDENTIALS_DIRECTORY", name)
		}
		full = filepath.Join(dir, p)
		name = fmt.Sprintf("%s (%s)", name, full)
	}
	f, err := os.Open(full)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	const limit = 64 << 10
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, unwrapPath(err))
	}
	line, _, found := bytes.Cut(data, []byte("\n"))
	if !found && len(data) > limit {
		return "", fmt.Errorf("read %s: first line is longer than %d bytes", name, limit)
	}
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}

// unwrapPath drops the *fs.PathError wrapper, whose text repeats the
// path and the operation ("open /x: ..."), keeping its cause.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolveSecrets resolves every secret the configuration uses.
func (l *loader) resolveSecrets(c *Config) {
	resolve := func(key string, s *Secret) {
		if l.isBad(key) {
			return // a mistyped list or table: its default secrets are not the file's
		}
		if err := s.Resolve(); err != nil {
			msg := err.Error()
			var unset *unsetEnvError
			if errors.As(err, &unset) {
				msg += "; " + envHint(key, unset.name)
			}
			l.fail(key, msg)
		}
	}
	resolve("nylas.api_key", &c.Nylas.APIKey)
	for i := range c.Nylas.WebhookSecrets {
		resolve(fmt.Sprintf("nylas.webhook_secrets[%d]", i), &c.Nylas.WebhookSecrets[i])
	}
	switch {
	case c.CRM.Enabled && c.CRM.Type == "salesforce":
		resolve("crm.salesforce.client_secret", &c.CRM.Salesforce.ClientSecret)
	case c.CRM.Enabled:
		resolve("crm.api_key", &c.CRM.APIKey)
	}
	switch {
	case c.ATS.Enabled && c.ATS.Type == "greenhouse":
		resolve("ats.greenhouse.client_secret", &c.ATS.Greenhouse.ClientSecret)
	case c.ATS.Enabled:
		resolve("ats.api_key", &c.ATS.APIKey)
	}
	if c.Archive.S3Used() {
		resolve("archive.s3.access_key", &c.Archive.S3.AccessKey)
		resolve("archive.s3.secret_key", &c.Archive.S3.SecretKey)
	}
	for i := range c.Alerts {
		a := &c.Alerts[i]
		switch a.Type {
		case "slack", "webhook":
			resolve(fmt.Sprintf("alert[%d].url", i), &a.URL)
		case "email":
			resolve(fmt.Sprintf("alert[%d].password", i), &a.Password)
		}
	}
}

// requireSecret reports a secret whose resolved value is empty.
func (l *loader) requireSecret(key string, s Secret) {
	if s.Value() != "" || l.unresolved {
		return
	}
	switch {
	case s.isEnv():
		l.add(key, "environment variable %s is empty", strings.TrimPrefix(s.ref, "env:"))
	case s.isFile():
		l.add(key, "the first line of %s is empty", s.ref)
	default:
		l.add(key, "must not be empty")
	}
}
