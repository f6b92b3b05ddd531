package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validation of the Nylas side: [[calendar]] and [[scheduler]].

const (
	maxInstructions  = 1500 // characters of a summary or action-items instruction
	maxNotetakerName = 255  // characters of a Notetaker's name (Nylas' limit)
)

var (
	schedulerName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	schedulerSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)
)

func (l *loader) validateNylasSide(c *Config) {
	seen := map[[2]string]string{} // grant, calendar_id -> key of its first table
	for i := range c.Calendars {
		key := fmt.Sprintf("calendar[%d]", i)
		cal := &c.Calendars[i]
		l.validateCalendar(key, cal, c.Nylas.Grants)
		id := [2]string{cal.Grant, cal.CalendarID}
		if first, dup := seen[id]; dup && cal.Grant != "" {
			l.add(key+".calendar_id", "calendar %q of grant %q is already declared in %s", cal.CalendarID, cal.Grant, first)
		} else {
			seen[id] = key
		}
	}
	names, slugs := map[string]string{}, map[string]string{}
	for i := range c.Schedulers {
		key := fmt.Sprintf("scheduler[%d]", i)
		s := &c.Schedulers[i]
		l.validateScheduler(key, s, c.Nylas.Grants)
		if first, dup := names[s.Name]; dup && s.Name != "" {
			l.add(key+".name", "%q is already the name of %s; every scheduler needs its own", s.Name, first)
		} else {
			names[s.Name] = key
		}
		if first, dup := slugs[s.Slug]; dup && s.Slug != "" {
			l.add(key+".slug", "%q is already the slug of %s; slugs are unique", s.Slug, first)
		} else {
			slugs[s.Slug] = key
		}
	}
}

func (l *loader) validateCalendar(key string, c *Calendar, grants []string) {
	l.grant(key+".grant", c.Grant, grants)
	l.id(key+".calendar_id", c.CalendarID, "a calendar ID such as \"primary\"")
	l.notetakerName(key+".bot_name", c.BotName)
	if len(c.EventSelection) == 0 {
		l.add(key+".event_selection", "at least one of %s is required", quoteList(eventSelections))
	}
	l.enumList(key+".event_selection", c.EventSelection, eventSelections)
	if c.ParticipantsGTE < 0 {
		l.add(key+".participants_gte", "must be 0 (no lower bound) or more, not %d", c.ParticipantsGTE)
	}
	if c.ParticipantsLTE < 0 {
		l.add(key+".participants_lte", "must be 0 (no upper bound) or more, not %d", c.ParticipantsLTE)
	} else if c.ParticipantsLTE > 0 && c.ParticipantsGTE > c.ParticipantsLTE {
		l.add(key+".participants_lte", "must be 0 (no upper bound) or at least participants_gte (%d), not %d", c.ParticipantsGTE, c.ParticipantsLTE)
	}
	for _, f := range []struct {
		name string
		on   bool
	}{{"summary", c.Summary}, {"action_items", c.ActionItems}} {
		if f.on && !c.Transcription {
			l.add(key+"."+f.name, "needs transcription = true (Nylas makes the %s from the transcript)", strings.ReplaceAll(f.name, "_", " "))
		}
	}
	l.instructions(key+".summary_instructions", c.SummaryInstructions, c.Summary, "summary")
	l.instructions(key+".action_items_instructions", c.ActionItemsInstructions, c.ActionItems, "action_items")
	if s := c.LeaveAfterSilenceSeconds; s < 10 || s > 3600 {
		l.add(key+".leave_after_silence_seconds", "must be between 10 and 3600, not %d", s)
	}
}

func (l *loader) validateScheduler(key string, s *Scheduler, grants []string) {
	switch {
	case s.Name == "":
		l.add(key+".name", "required: this file's name for the booking page, e.g. \"interviews\"")
	case !schedulerName.MatchString(s.Name):
		l.add(key+".name", "must be letters, digits, '-' and '_' only, not %q", s.Name)
	}
	l.grant(key+".grant", s.Grant, grants)
	if s.Slug != "" && !schedulerSlug.MatchString(s.Slug) {
		l.add(key+".slug", "must be \"\" (no hosted page) or 3 to 63 lowercase letters, digits and '-', starting with a letter or digit, not %q", s.Slug)
	}
	switch {
	case strings.TrimSpace(s.Title) == "":
		l.add(key+".title", "must not be empty, e.g. \"Interview with {{invitee_name}}\"")
	case strings.ContainsFunc(s.Title, unicode.IsControl):
		l.add(key+".title", "must be one line without control characters, not %q", s.Title)
	}
	if s.DurationMinutes < 1 || s.DurationMinutes > 1440 {
		l.add(key+".duration_minutes", "must be between 1 and 1440, not %d", s.DurationMinutes)
	}
	l.oneOf(key+".availability_method", s.AvailabilityMethod, availabilityMethods...)
	if !slices.Contains(conferencingProviders, s.Conferencing) {
		l.add(key+".conferencing", "must be one of %s, not %q", quoteList(conferencingProviders), s.Conferencing)
	}

	if len(s.Participants) == 0 {
		l.add(key+".participant", "at least one [[scheduler.participant]] is required, exactly one with organizer = true")
	}
	organizers, emails := 0, map[string]string{}
	for i := range s.Participants {
		pkey := fmt.Sprintf("%s.participant[%d]", key, i)
		p := &s.Participants[i]
		switch {
		case p.Email == "":
			l.add(pkey+".email", "required: the participant's e-mail address")
		case !isEmail(p.Email):
			l.add(pkey+".email", "must be an e-mail address such as \"alice@example.com\", not %q", p.Email)
		default:
			lower := strings.ToLower(p.Email)
			if first, dup := emails[lower]; dup {
				l.add(pkey+".email", "%q is already a participant (%s)", p.Email, first)
			}
			emails[lower] = pkey
		}
		if strings.ContainsFunc(p.Name, unicode.IsControl) {
			l.add(pkey+".name", "must not contain control characters: %q", p.Name)
		}
		l.id(pkey+".calendar_id", p.CalendarID, "a calendar ID such as \"primary\"")
		if p.Organizer {
			organizers++
			if organizers > 1 {
				l.add(pkey+".organizer", "only one participant may be the organizer")
			}
		}
	}
	if len(s.Participants) > 0 && organizers == 0 {
		l.add(key+".participant", "one participant needs organizer = true (the owner of %s.grant)", key)
	}

	n := &s.Notetaker
	nkey := key + ".notetaker"
	if n.Enabled {
		if s.Conferencing == "" {
			l.add(nkey+".enabled", "needs %s.conferencing (a Notetaker joins the booking's video call)", key)
		}
		l.notetakerName(nkey+".name", n.Name)
	}
	l.instructions(nkey+".summary_instructions", n.SummaryInstructions, true, "")
	l.instructions(nkey+".action_items_instructions", n.ActionItemsInstructions, true, "")
}

// grant checks a table's grant: set, and one of [nylas] grants.
func (l *loader) grant(key, g string, grants []string) {
	switch {
	case g == "":
		l.add(key, "required: a grant ID listed in nylas.grants (`notekeeper nylas grants` lists them)")
	case !slices.Contains(grants, g) && !l.isBad("nylas.grants"):
		l.add(key, "%q is not listed in nylas.grants; add it there first", g)
	}
}

// id checks an identifier sent in a URL path (a calendar ID).
func (l *loader) id(key, v, what string) {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		l.add(key, "must be %s, without \"/\" or spaces, not %q", what, v)
	}
}

// notetakerName checks the name a Notetaker shows in the meeting.
func (l *loader) notetakerName(key, name string) {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		l.add(key, "must not be empty: it is the name the bot shows in the meeting")
	case n > maxNotetakerName:
		l.add(key, "must be at most %d characters, not %d", maxNotetakerName, n)
	case strings.ContainsFunc(name, unicode.IsControl):
		l.add(key, "must not contain control characters: %q", name)
	}
}

// instructions checks custom instructions for a summary or action items:
// at most maxInstructions characters, no control characters but newline and
// tab, and (feature != "") only when that feature is on.
func (l *loader) instructions(key, text string, on bool, feature string) {
	if text == "" {
		return
	}
	if !on {
		l.add(key, "is set but %s is false; set %s = true or remove the instructions", feature, feature)
		return
	}
	if n := utf8.RuneCountInString(text); n > maxInstructions {
		l.add(key, "must be at most %d characters, not %d", maxInstructions, n)
	}
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		l.add(key, "must not contain control characters other than newline and tab")
	}
}

// enumList checks a list of enum values, rejecting unknown and duplicate ones.
func (l *loader) enumList(key string, list, allowed []string) {
	seen := map[string]bool{}
	for i, v := range list {
		ekey := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case !slices.Contains(allowed, v):
			l.add(ekey, "must be one of %s, not %q", quoteList(allowed), v)
		case seen[v]:
			l.add(ekey, "%q is listed twice", v)
		}
		seen[v] = true
	}
}

// quoteList writes values as "a", "b" or "c".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
