package nylastest

import (
	"encoding/json"
	"strings"
)

// meetingDefaults are the meeting_settings defaults of the Nylas OpenAPI's
// meeting_settings_common: every boolean true, 300 s of silence.
var meetingDefaults = map[string]any{
	"video_recording": true, "audio_recording": true, "transcription": true,
	"summary": true, "action_items": true, "leave_after_silence_seconds": float64(300),
}

// fillCalendarNotetaker fills a calendar's notetaker object the way Nylas
// answers it: its default name and meeting settings, a null
// transcription_settings, and a notetaker.id (in the Nylas OpenAPI's response example,
// not in its schema).
func fillCalendarNotetaker(nt map[string]any, id string) {
	if _, ok := nt["id"]; !ok {
		nt["id"] = id
	}
	if s, _ := nt["name"].(string); s == "" {
		nt["name"] = "Nylas Notetaker"
	}
	nt["meeting_settings"] = fillMeeting(asMap(nt["meeting_settings"]))
	if _, ok := nt["rules"]; !ok {
		nt["rules"] = map[string]any{}
	}
}

func fillMeeting(ms map[string]any) map[string]any {
	if ms == nil {
		ms = map[string]any{}
	}
	for k, v := range meetingDefaults {
		if ms[k] == nil {
			ms[k] = v
		}
	}
	if _, ok := ms["transcription_settings"]; !ok {
		ms["transcription_settings"] = nil
	}
	return ms
}

// fillConfigurationDefaults fills in what Nylas fills in on a configuration
// (testdata/configuration.json less its id and managed keys): nullable
// booleans come back false, round_to 15, the collective method, a zero
// buffer, default open hours, booking_type "booking", the scheduler's day
// and notice defaults, organizer_locale; and for notetaker_settings its
// name, consent message and meeting settings.
func fillConfigurationDefaults(obj map[string]any) {
	def := asMap(sampleData(configurationSample))
	delete(def, "id")
	fillUnder(obj, def)
	for _, k := range []string{"requires_session_auth"} {
		if obj[k] == nil {
			obj[k] = false
		}
	}
	eb := asMap(obj["event_booking"])
	for _, k := range []string{"hide_participants", "disable_emails", "notify_participants"} {
		if eb[k] == nil {
			eb[k] = false
		}
	}
	if sch := asMap(obj["scheduler"]); sch["min_booking_notice"] == nil {
		sch["min_booking_notice"] = float64(60)
	}
	for _, p := range asList(obj["participants"]) {
		if pm := asMap(p); pm != nil && pm["is_organizer"] == nil {
			pm["is_organizer"] = false
		}
	}
	if nts := asMap(asMap(obj["scheduler"])["notetaker_settings"]); nts != nil {
		if nts["enabled"] == nil {
			nts["enabled"] = false
		}
		if nts["show_ui_consent_message"] == nil {
			nts["show_ui_consent_message"] = true
		}
		if s, _ := nts["notetaker_name"].(string); s == "" {
			nts["notetaker_name"] = "Nylas Notetaker"
		}
		nts["meeting_settings"] = fillMeeting(asMap(nts["meeting_settings"]))
	}
}

// checkMeetingSettings is the Nylas OpenAPI's rule for meeting settings: transcription
// needs both recordings; summary and action items need all three; the
// silence timeout lies in 10–3600.
func checkMeetingSettings(ms map[string]any) string {
	if ms == nil {
		return ""
	}
	on := func(k string) bool { v, ok := ms[k].(bool); return !ok || v }
	rec := on("video_recording") && on("audio_recording")
	switch {
	case on("transcription") && !rec:
		return "transcription requires video_recording and audio_recording"
	case (on("summary") || on("action_items")) && !(rec && on("transcription")):
		return "summary and action_items require video_recording, audio_recording and transcription"
	}
	if v, ok := ms["leave_after_silence_seconds"].(float64); ok && (v < 10 || v > 3600) {
		return "leave_after_silence_seconds must be between 10 and 3600"
	}
	return ""
}

// fillUnder sets every key of def that obj lacks (recursively into objects
// both have); a key obj holds is kept, even null.
func fillUnder(obj, def map[string]any) {
	for k, dv := range def {
		ov, ok := obj[k]
		if !ok {
			obj[k] = clone(dv)
			continue
		}
		if om, dm := asMap(ov), asMap(dv); om != nil && dm != nil {
			fillUnder(om, dm)
		}
	}
}

// mergeOver lays b over a (objects merged, anything else replaced).
func mergeOver(a, b map[string]any) map[string]any {
	out := clone(a).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range b {
		if am, bm := asMap(out[k]), asMap(v); am != nil && bm != nil {
			out[k] = mergeOver(am, bm)
		} else {
			out[k] = clone(v)
		}
	}
	return out
}

// setPath sets the dotted path in obj to v, creating objects on the way;
// v nil removes the last key.
func setPath(obj map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next := asMap(obj[k])
		if next == nil {
			if v == nil {
				return
			}
			next = map[string]any{}
			obj[k] = next
		}
		obj = next
	}
	last := keys[len(keys)-1]
	if v == nil {
		delete(obj, last)
		return
	}
	obj[last] = normalise(v)
}

// sampleData decodes a testdata sample and returns its data object.
func sampleData(sample []byte) map[string]any { return asMap(sampleEnvelope(sample)["data"]) }

// sampleEnvelope decodes a whole testdata sample.
func sampleEnvelope(sample []byte) map[string]any {
	var env map[string]any
	if err := json.Unmarshal(sample, &env); err != nil {
		panic("nylastest: bad sample: " + err.Error())
	}
	return env
}

// normalise turns v into what json.Unmarshal would give (float64 numbers,
// []any, map[string]any).
func normalise(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic("nylastest: " + err.Error())
	}
	var out any
	json.Unmarshal(b, &out)
	return out
}

// clone deep-copies a JSON value (keeping the static type of maps and
// slices of maps).
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any(nil)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i] = clone(e).(map[string]any)
		}
		return out
	}
	return v
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
