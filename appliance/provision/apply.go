package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// Apply makes Nylas match the tables: it plans (see Plan), then for each
// item that differs writes only that — a calendar's whole notetaker object
// (or {"notetaker": null} for enabled = false), a configuration's changed
// sections, or a new configuration — reads the object back and fails that
// item naming every declared key Nylas did not take. It prints to out one
// line per change made (as Plan spells them) and then each scheduler's
// booking page URL. Nothing is deleted.
//
// A configuration's ID is stored in StateFile at once after its create
// (and when one is adopted by slug). A create that ends without an answer
// may still have happened: Apply then looks for the slug before reporting
// the failure, so a configuration is never created twice; one without a
// slug cannot be looked for, and the error says so.
//
// Errors: the plan's errors (nothing is written then); otherwise every
// failed item, joined, each naming its table; items that succeeded stay
// applied.
func (p *Provisioner) Apply(ctx context.Context, out io.Writer) error {
	plan, err := p.Plan(ctx)
	if err != nil {
		return err
	}
	st, err := loadState(p.DataDir)
	if err != nil {
		return err
	}
	var errs []error
	for i := range plan.Items {
		it := &plan.Items[i]
		var err error
		switch {
		case it.calendar != nil && it.Action != ActionNone:
			err = p.applyCalendar(ctx, it)
		case it.scheduler != nil:
			err = p.applyScheduler(ctx, st, it)
		default:
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", it.Kind, it.Key, err))
			continue
		}
		if it.Action != ActionNone {
			for _, l := range (&Plan{Items: []Item{*it}}).Lines() {
				fmt.Fprintln(out, l)
			}
		}
	}
	for _, s := range p.Schedulers {
		switch {
		case s.Slug == "":
			fmt.Fprintf(out, "booking page %s: none (no slug)\n", s.Name)
		case s.RequiresSessionAuth:
			fmt.Fprintf(out, "booking page %s: none (requires_session_auth: bookings need a session)\n", s.Name)
		default:
			fmt.Fprintf(out, "booking page %s: %s\n", s.Name, BookingURL(s.Slug))
		}
	}
	return errors.Join(errs...)
}

func (p *Provisioner) applyCalendar(ctx context.Context, it *Item) error {
	c := it.calendar
	if _, err := p.Nylas.SetCalendarNotetaker(ctx, c.Grant, c.CalendarID, desiredCalendar(*c)); err != nil {
		return err
	}
	cal, err := p.Nylas.GetCalendar(ctx, c.Grant, c.CalendarID)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	switch action, diffs, _ := compareCalendar(cal, c); {
	case action == ActionNone:
		return nil
	case action == ActionDisable:
		return errors.New(`calendar sync still on: Nylas kept the Notetaker rules after {"notetaker": null}; switch it off in the dashboard`)
	case action == ActionCreate:
		return errors.New("the Notetaker rules were sent, but Nylas did not keep them")
	default:
		return notTaken(diffs)
	}
}

func (p *Provisioner) applyScheduler(ctx context.Context, st *state, it *Item) error {
	s := it.scheduler
	want := desiredConfiguration(*s)
	cur := it.current
	switch it.Action {
	case ActionCreate:
		created, err := p.create(ctx, s, want)
		if err != nil {
			return err
		}
		cur = created
		it.Note = "created " + created.ID
		if err := p.store(st, s, created.ID); err != nil {
			return err
		}
	case ActionUpdate:
		if it.adopt {
			if err := p.store(st, s, cur.ID); err != nil {
				return err
			}
		}
		if _, err := p.Nylas.UpdateConfiguration(ctx, s.Grant, cur, want, sections(it.Diffs)); err != nil {
			return err
		}
	default:
		if it.adopt {
			return p.store(st, s, cur.ID)
		}
		return nil
	}
	got, err := p.Nylas.GetConfiguration(ctx, s.Grant, cur.ID)
	if err != nil {
		return fmt.Errorf("read back %s: %w", cur.ID, err)
	}
	if ds := diffFields(configurationFields(got), configurationFields(want)); len(ds) > 0 {
		return notTaken(ds)
	}
	return nil
}

// create creates s's configuration. When the create ends with no answer
// that rules out its having happened, the grant's configurations are
// searched for the slug, and a match is taken as this create's result.
func (p *Provisioner) create(ctx context.Context, s *Scheduler, want *nylas.Configuration) (*nylas.Configuration, error) {
	created, err := p.Nylas.CreateConfiguration(ctx, s.Grant, want)
	if err == nil {
		return created, nil
	}
	if !mayHaveActed(err) {
		return nil, err
	}
	if s.Slug == "" {
		return nil, fmt.Errorf("%w (the create may have happened: this table has no slug to look for it by; check the Nylas dashboard before running apply again)", err)
	}
	found, ferr := p.findBySlug(ctx, s.Grant, s.Slug)
	if ferr == nil && found != nil {
		return found, nil
	}
	return nil, fmt.Errorf("%w (the create may have happened: apply looks for slug %q first when run again)", err, s.Slug)
}

// store records id as s's configuration at once.
func (p *Provisioner) store(st *state, s *Scheduler, id string) error {
	st.Configurations[s.Name] = storedConfiguration{ID: id, Grant: s.Grant, Slug: s.Slug, StoreAt: time.Now().UTC()}
	return st.save(p.DataDir)
}

// mayHaveActed reports whether a failed POST may still have been carried
// out: anything but an answer from Nylas that says it was not (a 4xx, or
// 429/503 after the client's retries).
func mayHaveActed(err error) bool {
	var e *nylas.Error
	if errors.As(err, &e) {
		return e.Status >= 500 && e.Status != http.StatusServiceUnavailable
	}
	return true
}

// notTaken names the declared keys Nylas did not take.
func notTaken(ds []Diff) error {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s (sent %s, Nylas has %s)", d.Field, short(d.New), short(d.Old)))
	}
	return errors.New("Nylas did not take " + strings.Join(parts, "; "))
}
