package config

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"
)

// SummaryLine is one line of Summary: a short label and its text.
type SummaryLine struct{ Key, Text string }

// Summary describes c's shape for `notekeeper doctor`: where it serves,
// which sections are on, and every secret as its reference (SecretRefs,
// never a value). URLs are cut to scheme and host: their paths and queries
// may carry tokens.
func Summary(cfg Config) []SummaryLine {
	var out []SummaryLine
	line := func(k, format string, a ...any) { out = append(out, SummaryLine{k, fmt.Sprintf(format, a...)}) }
	if cfg.Server.Domain != "" {
		line("domain", "%s: HTTPS on :%d, ACME and redirect on :%d, ca %s", cfg.Server.Domain, cfg.TLS.HTTPSPort, cfg.TLS.HTTPPort, cfg.TLS.CA)
	} else {
		line("domain", "none: plain HTTP on %s", cfg.Server.Listen)
	}
	line("public url", "%s (webhook path %s)", cfg.PublicURL(), cfg.Server.WebhookPath)
	line("data dir", "%s", cfg.DataDir)
	line("nylas", "%s, %d grants, media hosts %s%s", hostOnly(cfg.Nylas.APIBase), len(cfg.Nylas.Grants),
		cmp.Or(strings.Join(cfg.Nylas.MediaHosts, ", "), "any public https host"),
		map[bool]string{true: ", allow_http_media (test mode)"}[cfg.Nylas.AllowHTTPMedia])
	archive := cfg.Archive.Target
	if cfg.Archive.S3Used() {
		archive += fmt.Sprintf(" (bucket %s at %s, prefix %q)", cfg.Archive.S3.Bucket, hostOnly(cfg.Archive.S3.Endpoint), cfg.Archive.S3.Prefix)
	}
	line("archive", "%s; kinds %s; keep_days %d", archive, strings.Join(cfg.Archive.Kinds, ", "), cfg.Archive.KeepDays)
	line("crm", "%s", connectorSummary(cfg.CRM.Enabled, cfg.CRM.Type, cfg.CRM.BaseURL))
	line("ats", "%s", connectorSummary(cfg.ATS.Enabled, cfg.ATS.Type, cfg.ATS.BaseURL))
	if cfg.Followup.Enabled {
		line("followup", "on, to %s", cfg.Followup.To)
	} else {
		line("followup", "off")
	}
	types := make([]string, len(cfg.Alerts))
	for i, a := range cfg.Alerts {
		types[i] = a.Type
	}
	line("alerts", "%d sinks%s", len(cfg.Alerts), prefixed(": ", strings.Join(types, ", ")))
	line("admin", "%d users%s", len(cfg.Admin.Users), map[bool]string{true: " (the UI is off)"}[len(cfg.Admin.Users) == 0])
	line("nylas side", "%d [[calendar]], %d [[scheduler]]", len(cfg.Calendars), len(cfg.Schedulers))
	for _, s := range SecretRefs(cfg) {
		note := ""
		if !SecretInUse(cfg, s.Key) {
			note = " (section off: not read)"
		}
		line("secret", "%s = %s%s", s.Key, s.Ref, note)
	}
	return out
}

// connectorSummary is "off", or the type and where it points ("the
// vendor's API" when base_url is empty).
func connectorSummary(enabled bool, typ, baseURL string) string {
	if !enabled {
		return "off"
	}
	return typ + " at " + cmp.Or(hostOnly(baseURL), "the vendor's API")
}

// hostOnly is u's scheme and host: no user information, path or query,
// which may carry a token.
func hostOnly(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
