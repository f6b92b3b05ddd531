package config

import (
	"fmt"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Validation of where meetings go: [crm], [ats], [followup] and [[alert]].
// Values that are set are checked whether the table is enabled or not;
// what a connector needs is required only when it is enabled.

var (
	salesforceVersion = regexp.MustCompile(`^v[0-9]{2,3}\.[0-9]$`)

	crmTypes = []string{"rest", "hubspot", "pipedrive", "salesforce", "close"}
	atsTypes = []string{"rest", "greenhouse", "lever", "ashby"}
)

func (l *loader) validateCRM(c *CRM) {
	if !l.connector("crm", c.Enabled, c.Type, crmTypes, c.BaseURL, c.APIKey, "salesforce") {
		return
	}
	if c.Type == "rest" {
		for _, k := range []struct {
			key string
			on  bool
		}{{"create_contacts", c.CreateContacts}, {"tasks_from_action_items", c.TasksFromActionItems}} {
			if k.on {
				l.add("crm."+k.key, "not supported by crm.type = \"rest\" (its contract has no contact or task endpoint); use a vendor type or false")
			}
		}
	}
	if c.Type == "close" && c.TasksFromActionItems {
		l.add("crm.tasks_from_action_items", "not supported by crm.type = \"close\" (the meeting is a note on the lead; tasks are not written); use false")
	}
	l.paths("crm", "contacts_search_path", c.ContactsSearchPath, "meetings_path", c.MeetingsPath)

	const sf = "crm.salesforce."
	s := &c.Salesforce
	if msg := httpURLProblem(s.LoginURL, false); msg != "" {
		l.add(sf+"login_url", "%s, e.g. \"https://login.salesforce.com\" or your My Domain URL, not %q", msg, shownURL(s.LoginURL))
	}
	if !salesforceVersion.MatchString(s.APIVersion) {
		l.add(sf+"api_version", "must be a Salesforce REST API version such as \"v62.0\", not %q", s.APIVersion)
	}
	if c.Enabled && c.Type == "salesforce" {
		l.oauthClient("crm", "salesforce", s.ClientID, s.ClientSecret, "the connected app's consumer key", "the connected app's consumer secret")
	}
}

func (l *loader) validateATS(a *ATS) {
	if !l.connector("ats", a.Enabled, a.Type, atsTypes, a.BaseURL, a.APIKey, "greenhouse") {
		return
	}
	if a.Enabled && a.UserID == "" && (a.Type == "greenhouse" || a.Type == "lever") {
		l.add("ats.user_id", "required when ats.type = %q (the ATS user notekeeper writes as: %s)", a.Type,
			map[string]string{"greenhouse": "the numeric user ID the token's sub names", "lever": "the user ID sent as perform_as"}[a.Type])
	} else if strings.ContainsFunc(a.UserID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		l.add("ats.user_id", "must be a user ID without spaces, not %q", a.UserID)
	}
	l.paths("ats", "interviews_path", a.InterviewsPath, "recordings_path", a.RecordingsPath)

	const gh = "ats.greenhouse."
	g := &a.Greenhouse
	if msg := httpURLProblem(g.TokenURL, false); msg != "" {
		l.add(gh+"token_url", "%s, e.g. \"https://auth.greenhouse.io/token\", not %q", msg, shownURL(g.TokenURL))
	}
	if a.Enabled && a.Type == "greenhouse" {
		l.oauthClient("ats", "greenhouse", g.ClientID, g.ClientSecret, "the Harvest v3 credential's client ID", "the Harvest v3 credential's client secret")
	}
}

// connector checks what [crm] and [ats] share: type; base_url; and api_key,
// which an enabled connector of any type but oauthType needs (oauthType
// signs in with its own [section.oauthType] table). It returns false when
// type or enabled did not decode: what is required depends on them.
func (l *loader) connector(section string, enabled bool, typ string, types []string, baseURL string, apiKey Secret, oauthType string) bool {
	l.oneOf(section+".type", typ, types...)
	if l.isBad(section+".type", section+".enabled") {
		return false
	}
	l.baseURL(section, enabled, typ, baseURL)
	if typ != oauthType {
		l.apiKey(section, enabled, apiKey)
	} else if l.defined(section+".api_key") && apiKey.Ref() != "" {
		l.add(section+".api_key", "not used by %s.type = %q (it signs in with [%s.%s] client_id and client_secret)", section, typ, section, typ)
	}
	return true
}

// oauthClient requires the client credentials of an enabled OAuth
// connector's [section.typ] table; idWhat and secretWhat say what they are.
func (l *loader) oauthClient(section, typ, id string, secret Secret, idWhat, secretWhat string) {
	prefix, why := section+"."+typ+".", fmt.Sprintf("required when %s.type = %q", section, typ)
	if id == "" {
		l.add(prefix+"client_id", "%s (%s)", why, idWhat)
	}
	l.requiredSecret(prefix+"client_secret", secret, why+" ("+secretWhat+")")
}

// baseURL checks [crm] or [ats] base_url: required for an enabled "rest"
// connector, a URL whenever it is set ("" = the vendor's API).
func (l *loader) baseURL(section string, enabled bool, typ, u string) {
	switch {
	case u == "" && enabled && typ == "rest":
		l.add(section+".base_url", "required when %s.enabled is true", section)
	case u != "":
		if msg := httpURLProblem(u, false); msg != "" {
			l.add(section+".base_url", "%s, not %q", msg, shownURL(u))
		}
	}
}

// apiKey checks [crm] or [ats] api_key, required when the section is enabled.
func (l *loader) apiKey(section string, enabled bool, key Secret) {
	if enabled {
		l.requiredSecret(section+".api_key", key, fmt.Sprintf("required when %s.enabled is true", section))
	}
}

// requiredSecret reports a secret that is not set (with why) or resolves to
// "".
func (l *loader) requiredSecret(key string, s Secret, why string) {
	if s.Ref() == "" {
		l.add(key, "%s", why)
		return
	}
	l.requireSecret(key, s)
}

// paths checks the rest connector's API paths, given as key, value pairs.
func (l *loader) paths(section string, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		key, p := section+"."+kv[i], kv[i+1]
		switch {
		case !strings.HasPrefix(p, "/"):
			l.add(key, "must start with \"/\", not %q", p)
		case strings.ContainsAny(p, "?#") || strings.ContainsFunc(p, unicode.IsSpace):
			l.add(key, "must be a plain path without spaces, \"?\" or \"#\", not %q", p)
		}
	}
}

func (l *loader) validateFollowup(f *Followup) {
	l.oneOf("followup.to", f.To, "internal", "all")
	switch {
	case strings.TrimSpace(f.Subject) == "":
		l.add("followup.subject", "must not be empty, e.g. \"Notes: {{title}}\"")
	case strings.ContainsFunc(f.Subject, unicode.IsControl):
		l.add("followup.subject", "must be one line without control characters, not %q", f.Subject)
	case len([]rune(f.Subject)) > 200:
		l.add("followup.subject", "must be at most 200 characters, not %d", len([]rune(f.Subject)))
	}
}

func (l *loader) validateAlert(key string, a *Alert) {
	var allowed []string
	switch a.Type {
	case "slack", "webhook":
		allowed = []string{"type", "url", "kinds"}
		if a.URL.Ref() == "" {
			l.add(key+".url", "required for %s alerts", a.Type)
		} else if a.URL.Value() == "" {
			l.requireSecret(key+".url", a.URL)
		} else if msg := httpURLProblem(a.URL.Value(), true); msg != "" {
			// The URL is a secret (a Slack URL carries its token): never quote it.
			l.add(key+".url", "%s", msg)
		}
	case "email":
		allowed = []string{"type", "kinds", "smtp_addr", "username", "password", "from", "to"}
		if a.SMTPAddr == "" {
			l.add(key+".smtp_addr", "required for email alerts (host:port, e.g. \"smtp.example.com:587\")")
		} else if host, port, err := net.SplitHostPort(a.SMTPAddr); err != nil || host == "" {
			l.add(key+".smtp_addr", "must be host:port such as \"smtp.example.com:587\", not %q", a.SMTPAddr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			l.add(key+".smtp_addr", "port %q must be a number from 1 to 65535", port)
		}
		if a.Password.Ref() != "" && a.Username == "" {
			l.add(key+".username", "required when %s.password is set", key)
		}
		if a.Username != "" {
			if a.Password.Ref() == "" {
				l.add(key+".password", "required when %s.username is set", key)
			} else {
				l.requireSecret(key+".password", a.Password)
			}
		}
		switch {
		case a.From == "":
			l.add(key+".from", "required for email alerts")
		case !isEmail(a.From):
			l.add(key+".from", "must be an e-mail address such as \"notekeeper@example.com\", not %q", a.From)
		}
		if len(a.To) == 0 {
			l.add(key+".to", "required for email alerts: at least one address")
		}
		for i, to := range a.To {
			if !isEmail(to) {
				l.add(fmt.Sprintf("%s.to[%d]", key, i), "must be an e-mail address such as \"ops@example.com\", not %q", to)
			}
		}
	case "":
		l.add(key+".type", "required: \"slack\", \"webhook\" or \"email\"")
	default:
		l.add(key+".type", "must be \"slack\", \"webhook\" or \"email\", not %q", a.Type)
	}
	if allowed != nil {
		rt := reflect.TypeFor[Alert]()
		for i := range rt.NumField() {
			name := rt.Field(i).Tag.Get("toml")
			if !slices.Contains(allowed, name) && l.defined(key+"."+name) {
				l.add(key+"."+name, "not used by %s alerts (it applies to %s)", a.Type, alertTypesUsing(name))
			}
		}
	}
	l.kinds(key+".kinds", a.Kinds, AlertKinds())
}

// alertTypesUsing names the alert types that use an alert key.
func alertTypesUsing(name string) string {
	if name == "url" {
		return "slack and webhook alerts"
	}
	return "email alerts"
}
