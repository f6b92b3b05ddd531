// Package connector is the seam between the appliance's delivery state
// machines and the vendor APIs behind them: the CRM and ATS connector
// interfaces, the records they write, and the text rules every vendor shares.
// Vendor packages (appliance/crm/…, appliance/ats/…) implement it; package
// appliance drives them; main picks one by [crm] type / [ats] type.
package connector

import "unicode/utf8"

// Cut returns s cut to at most limit bytes at a character boundary, with
// tail (links, a marker line) kept whole at the end: the body is shortened
// first, marked with "…", so that what a reader needs to follow the record
// back survives any vendor limit. When tail alone is over limit it is cut
// too. limit ≤ 0 means no limit.
func Cut(s, tail string, limit int) string {
	if limit <= 0 || len(s)+len(tail) <= limit {
		return s + tail
	}
	const ellipsis = "…"
	room := limit - len(tail) - len(ellipsis)
	if room < 0 {
		return cutBytes(tail, limit)
	}
	return cutBytes(s, room) + ellipsis + tail
}

// cutBytes cuts s to at most n bytes without splitting a UTF-8 sequence.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
