package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// Provisioner compares the declared tables with what Nylas holds (Plan)
// and makes Nylas match them (Apply). Set its fields, then call either; it
// keeps no state between calls beyond StateFile in DataDir.
type Provisioner struct {
	Nylas      *nylas.Client
	DataDir    string // where StateFile lives
	Calendars  []Calendar
	Schedulers []Scheduler
}

// Action is what a plan item needs.
type Action byte

// The actions, spelled as plan lines begin.
const (
	ActionNone    Action = '=' // Nylas matches the declaration
	ActionCreate  Action = '+' // a configuration to create, or a calendar without rules to give them
	ActionUpdate  Action = '~' // declared keys that differ (Diffs)
	ActionDisable Action = '-' // a calendar with rules whose table says enabled = false
)

// Item is the plan for one table.
type Item struct {
	Kind   string // "calendar" or "scheduler"
	Key    string // GRANT/CALENDAR, or the scheduler's name
	Action Action
	Diffs  []Diff // for ActionUpdate
	// Note explains an item (how a configuration was found, what a create
	// holds).
	Note string

	calendar  *Calendar
	scheduler *Scheduler
	current   *nylas.Configuration // nil: none found
	adopt     bool                 // current was found by slug: apply stores its ID
}

// Plan is the difference between the tables and Nylas, one item per table
// in declaration order (calendars first).
type Plan struct {
	Items []Item
}

// Pending reports whether applying would write to Nylas.
func (p *Plan) Pending() bool {
	for _, it := range p.Items {
		if it.Action != ActionNone {
			return true
		}
	}
	return false
}

// Lines is the plan as docs/nylas-setup.md shows it: "+ calendar GRANT/CALENDAR …",
// "- calendar …", "~ scheduler NAME: FIELD OLD → NEW" (one line per
// differing key), "= scheduler NAME".
func (p *Plan) Lines() []string {
	var out []string
	for _, it := range p.Items {
		head := fmt.Sprintf("%c %s %s", it.Action, it.Kind, it.Key)
		switch {
		case it.Action == ActionUpdate:
			for _, d := range it.Diffs {
				out = append(out, fmt.Sprintf("%s: %s %s → %s", head, d.Field, short(d.Old), short(d.New)))
			}
		case it.Note != "":
			out = append(out, head+": "+it.Note)
		default:
			out = append(out, head)
		}
	}
	return out
}

// WriteTo prints Lines, one per line.
func (p *Plan) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, l := range p.Lines() {
		m, err := fmt.Fprintln(w, l)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Plan reads every declared calendar and configuration from Nylas and
// returns what differs. It writes nothing, neither to Nylas nor to
// StateFile.
//
// Errors: the first read that fails (a calendar Nylas does not know, a
// wrong API key, …), wrapped with the table it was for; an unreadable
// StateFile.
func (p *Provisioner) Plan(ctx context.Context) (*Plan, error) {
	st, err := loadState(p.DataDir)
	if err != nil {
		return nil, err
	}
	plan := &Plan{}
	for i := range p.Calendars {
		it, err := p.planCalendar(ctx, &p.Calendars[i])
		if err != nil {
			return nil, err
		}
		plan.Items = append(plan.Items, it)
	}
	for i := range p.Schedulers {
		it, err := p.planScheduler(ctx, st, &p.Schedulers[i])
		if err != nil {
			return nil, err
		}
		plan.Items = append(plan.Items, it)
	}
	return plan, nil
}

func (p *Provisioner) planCalendar(ctx context.Context, c *Calendar) (Item, error) {
	it := Item{Kind: "calendar", Key: c.Key(), calendar: c}
	cal, err := p.Nylas.GetCalendar(ctx, c.Grant, c.CalendarID)
	if err != nil {
		return it, fmt.Errorf("calendar %s: %w", c.Key(), err)
	}
	it.Action, it.Diffs, it.Note = compareCalendar(cal, c)
	return it, nil
}

// compareCalendar is the plan of one calendar given what Nylas holds.
func compareCalendar(cal *nylas.Calendar, c *Calendar) (Action, []Diff, string) {
	want := desiredCalendar(*c)
	switch {
	case want == nil && cal.Notetaker == nil:
		return ActionNone, nil, "calendar sync off"
	case want == nil:
		return ActionDisable, nil, "remove the Notetaker rules (enabled = false)"
	case cal.Notetaker == nil:
		var parts []string
		for _, f := range calendarFields(want) {
			parts = append(parts, f.name+" "+short(f.value))
		}
		return ActionCreate, nil, "add Notetaker rules: " + strings.Join(parts, ", ")
	}
	if ds := diffFields(calendarFields(cal.Notetaker), calendarFields(want)); len(ds) > 0 {
		return ActionUpdate, ds, ""
	}
	return ActionNone, nil, ""
}

func (p *Provisioner) planScheduler(ctx context.Context, st *state, s *Scheduler) (Item, error) {
	it := Item{Kind: "scheduler", Key: s.Name, scheduler: s}
	cur, how, err := p.resolve(ctx, st, s)
	if err != nil {
		return it, fmt.Errorf("scheduler %s: %w", s.Name, err)
	}
	it.current, it.adopt = cur, how == "slug"
	if cur == nil {
		it.Action = ActionCreate
		people := "participants"
		if len(s.Participants) == 1 {
			people = "participant"
		}
		it.Note = fmt.Sprintf("create (%d %s, %s, %d min", len(s.Participants), people, s.AvailabilityMethod, s.DurationMinutes)
		if s.Slug != "" {
			it.Note += ", page " + BookingURL(s.Slug)
		}
		it.Note += ")"
		return it, nil
	}
	it.Diffs = diffFields(configurationFields(cur), configurationFields(desiredConfiguration(*s)))
	it.Action = ActionNone
	if len(it.Diffs) > 0 {
		it.Action = ActionUpdate
	}
	if it.adopt {
		it.Note = fmt.Sprintf("found by slug %q as %s; apply stores its ID", s.Slug, cur.ID)
	}
	return it, nil
}

// resolve finds the configuration of s: by the ID stored for its name
// (under the same grant), else by its slug among the grant's
// configurations, every page; nil when there is none. how says which
// ("id", "slug" or "").
func (p *Provisioner) resolve(ctx context.Context, st *state, s *Scheduler) (*nylas.Configuration, string, error) {
	if sc, ok := st.Configurations[s.Name]; ok && sc.ID != "" && sc.Grant == s.Grant {
		cfg, err := p.Nylas.GetConfiguration(ctx, s.Grant, sc.ID)
		if err == nil {
			return cfg, "id", nil
		}
		if !errors.Is(err, nylas.ErrNotFound) {
			return nil, "", err
		}
		// Deleted on the Nylas side: look for it by slug, else create anew.
	}
	found, err := p.findBySlug(ctx, s.Grant, s.Slug)
	if err != nil || found == nil {
		return nil, "", err
	}
	return found, "slug", nil
}

// findBySlug pages through grant's configurations for slug; nil when none
// has it (or slug is empty: a private configuration is found by ID only).
func (p *Provisioner) findBySlug(ctx context.Context, grant, slug string) (*nylas.Configuration, error) {
	if slug == "" {
		return nil, nil
	}
	var found *nylas.Configuration
	err := p.Nylas.EachConfiguration(ctx, grant, func(c *nylas.Configuration) (bool, error) {
		if c.Slug != nil && *c.Slug == slug {
			found = c
			return false, nil
		}
		return true, nil
	})
	return found, err
}
