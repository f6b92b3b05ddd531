package appliance

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// CRM pushes archived meetings that belong to no booking into the CRM
// through a connector.CRM (the rest contract or a vendor's API):
// participants from the calendar event, minus internal domains; contacts
// looked up by e-mail (created only with CreateContacts); one meeting record
// per Notetaker, created exactly once and updated in place when its content
// changes; with TasksFromActionItems, one task per action item, each created
// once.
//
// Exactly once, whatever crashes: the delivery record (store.CRMDelivery)
// gets an intent, committed, before every create, and the vendor's record ID
// right after the create answers. A run that finds an intent without an ID
// cannot know whether the create committed, so it asks the connector to find
// the record by its marker first; while nothing is found and the connector's
// search may still lag behind the create, the task is postponed
// (apperr.Later) rather than creating a second record.
type CRM struct {
	DB    *store.DB
	Nylas *nylas.Client
	// Connector is the vendor API ([crm] type); main builds it.
	Connector connector.CRM

	InternalDomains      []string
	CreateContacts       bool
	TasksFromActionItems bool
	Links                *links.Signer
	DataDir              string
	Logger               *slog.Logger
	Now                  func() time.Time // default time.Now
}

// Schedule queues an archived meeting for the CRM (the handler checks again
// that it belongs to no booking).
func (c *CRM) Schedule(_ context.Context, nt *store.Notetaker) error {
	return c.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: nt.ID})
}

// bookingOf finds the booking a meeting belongs to: by the booking's
// notetaker_id, else by the event ID (store.BookingOf). nil when none.
func bookingOf(db *store.DB, nt *store.Notetaker) (*store.Booking, error) {
	b, err := db.BookingOf(nt.ID, nt.Event.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

func (c *CRM) conn() connector.CRM { return c.Connector }

func (c *CRM) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// handle delivers one meeting; its errors name the connector, and say so
// plainly when the vendor rejected the credentials, for the dead letter's
// delivery.failed alert.
func (c *CRM) handle(ctx context.Context, t *store.Task) error {
	err := c.deliver(ctx, t)
	var later *apperr.LaterError
	var se *outbound.StatusError
	switch {
	case err == nil || errors.As(err, &later):
		return err
	case errors.As(err, &se) && se.Unauthorized():
		return fmt.Errorf("crm %s rejected the credentials: %w", c.conn().Name(), err)
	default:
		return fmt.Errorf("crm %s: %w", c.conn().Name(), err)
	}
}

func (c *CRM) deliver(ctx context.Context, t *store.Task) error {
	nt, err := archivedNotetaker(c.DB, t.Subject)
	if nt == nil || err != nil {
		return err
	}
	if b, err := bookingOf(c.DB, nt); err != nil || b != nil {
		return err // an interview: the ATS's
	}
	conn := c.conn()
	d, err := c.DB.CRMDelivery(nt.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d = &store.CRMDelivery{NotetakerID: nt.ID}
	case err != nil:
		return err
	case d.Connector != "" && d.Connector != conn.Name():
		// Delivered to another CRM before the operator switched: this
		// one has no record yet.
		d = &store.CRMDelivery{NotetakerID: nt.ID}
	}
	d.Connector = conn.Name()
	if nt.GrantID == "" || nt.Event.EventID == "" {
		d.Skipped = "no grant or calendar event: participants unknown"
		return c.DB.PutCRMDelivery(d.NotetakerID, d)
	}
	ev, err := calendarEvent(ctx, c.Nylas, nt) // kept by the archiver (meeting_info.go), else fetched
	if errors.Is(err, nylas.ErrNotFound) {
		return apperr.Permanent(err)
	} else if err != nil {
		return err
	}
	m := &connector.Meeting{NotetakerID: nt.ID, ICalUID: cmp.Or(ev.ICalUID, nt.Event.ICalUID), Title: ev.Title,
		Participants: externalParticipants(ev.Participants, c.InternalDomains)}
	if ev.When.StartTime > 0 {
		m.StartsAt = time.Unix(ev.When.StartTime, 0).UTC()
	}
	if ev.When.EndTime > 0 {
		m.EndsAt = time.Unix(ev.When.EndTime, 0).UTC()
	}
	if len(m.Participants) == 0 {
		d.Skipped = "no external participant"
		return c.DB.PutCRMDelivery(d.NotetakerID, d)
	}
	if err := c.readContent(nt, m); err != nil {
		return err
	}
	contacts, err := c.contacts(ctx, conn, d, m.Participants)
	if err != nil {
		return err
	}
	var deal string
	for _, ct := range contacts {
		if ct.DealID != "" {
			deal = ct.DealID
			break
		}
	}
	hash := meetingHash(m, contacts, deal)
	items := c.taskItems(nt.ID, m)
	if d.RecordID != "" && d.Hash == hash && tasksDone(d, items) {
		return nil // delivered, and nothing changed
	}
	if err := c.meeting(ctx, conn, d, m, contacts, deal, hash); errors.Is(err, connector.ErrUnsupported) {
		// The vendor cannot hold this record (Close: no matched contact,
		// so no lead for the note). A later run, once it can, creates it.
		d.Intent, d.Skipped = time.Time{}, err.Error()
		return c.DB.PutCRMDelivery(d.NotetakerID, d)
	} else if err != nil {
		return err
	}
	if err := c.tasks(ctx, conn, d, items, contacts, deal); err != nil {
		return err
	}
	d.Skipped, d.DeliveredAt = "", c.now()
	return c.DB.PutCRMDelivery(d.NotetakerID, d)
}

// readContent fills m's summary, action items and signed links from the
// archive.
func (c *CRM) readContent(nt *store.Notetaker, m *connector.Meeting) error {
	dir, err := archive.MediaDir(c.DataDir, nt.ID)
	if err != nil {
		return apperr.Permanent(err)
	}
	if f, ok := nt.Archived["summary"]; ok {
		if b, err := os.ReadFile(filepath.Join(dir, f.Name)); err == nil {
			m.Summary = archive.ParseSummary(b)
		}
	}
	if f, ok := nt.Archived["action_items"]; ok {
		if b, err := os.ReadFile(filepath.Join(dir, f.Name)); err == nil {
			m.ActionItems = archive.ParseActionItems(b)
		}
	}
	if f, ok := nt.Archived["recording"]; ok {
		m.RecordingURL = c.Links.URL(nt.ID, f.Name)
	}
	if _, ok := nt.Archived["transcript"]; ok {
		m.TranscriptURL = c.Links.URL(nt.ID, "transcript.txt")
	}
	return nil
}

// contacts matches the participants, in their order, and creates the
// unknown ones when CreateContacts is set (intent first, like the meeting).
// It records the contact IDs and the unmatched e-mails in d.
func (c *CRM) contacts(ctx context.Context, conn connector.CRM, d *store.CRMDelivery, ps []connector.Participant) ([]connector.Contact, error) {
	emails := make([]string, len(ps))
	for i, p := range ps {
		emails[i] = p.Email
	}
	found, err := conn.FindContacts(ctx, emails)
	if err != nil {
		return nil, err
	}
	var out []connector.Contact
	d.Unmatched, d.ContactIDs = nil, nil
	for _, p := range ps {
		ct, ok := found[p.Email]
		if !ok {
			if cr, made := d.Created[p.Email]; made {
				ct, ok = connector.Contact{ID: cr.ID, Email: p.Email, DealID: cr.DealID, CompanyID: cr.CompanyID}, true
			}
		}
		if !ok && c.CreateContacts {
			if ct, err = c.createContact(ctx, conn, d, p); err == nil {
				ok = true
			} else if !errors.Is(err, connector.ErrUnsupported) {
				return nil, err
			}
		}
		if !ok {
			d.Unmatched = append(d.Unmatched, p.Email)
			c.Logger.Info("participant not in the CRM", slog.String("notetaker", d.NotetakerID), slog.String("email", p.Email))
			continue
		}
		out = append(out, ct)
		d.ContactIDs = append(d.ContactIDs, ct.ID)
	}
	return out, nil
}

func (c *CRM) createContact(ctx context.Context, conn connector.CRM, d *store.CRMDelivery, p connector.Participant) (connector.Contact, error) {
	if at, ok := d.ContactIntents[p.Email]; ok {
		if wait := conn.SearchLag() - c.now().Sub(at); wait > 0 {
			return connector.Contact{}, apperr.Later(wait, "an interrupted contact create may not be searchable yet")
		}
	}
	if d.ContactIntents == nil {
		d.ContactIntents = map[string]time.Time{}
	}
	d.ContactIntents[p.Email] = c.now()
	if err := c.DB.PutCRMDelivery(d.NotetakerID, d); err != nil {
		return connector.Contact{}, err
	}
	ct, err := conn.CreateContact(ctx, p)
	if err != nil {
		if errors.Is(err, connector.ErrUnsupported) {
			delete(d.ContactIntents, p.Email)
		}
		return ct, err
	}
	if d.Created == nil {
		d.Created = map[string]store.CRMContact{}
	}
	d.Created[p.Email] = store.CRMContact{ID: ct.ID, DealID: ct.DealID, CompanyID: ct.CompanyID}
	delete(d.ContactIntents, p.Email)
	if ct.Email == "" {
		ct.Email = p.Email
	}
	return ct, c.DB.PutCRMDelivery(d.NotetakerID, d)
}

// meeting finds or creates the one record, or updates it.
func (c *CRM) meeting(ctx context.Context, conn connector.CRM, d *store.CRMDelivery, m *connector.Meeting, contacts []connector.Contact, deal, hash string) error {
	if d.RecordID != "" {
		if d.Hash == hash {
			return nil
		}
		if err := conn.UpdateMeeting(ctx, d.RecordID, m, contacts, deal); err != nil {
			return err
		}
		d.Hash = hash
		return c.DB.PutCRMDelivery(d.NotetakerID, d)
	}
	id, err := conn.FindMeeting(ctx, m)
	if err != nil {
		return err
	}
	if id != "" { // ours from an interrupted create, or the CRM's calendar copy
		if err := conn.UpdateMeeting(ctx, id, m, contacts, deal); err != nil {
			return err
		}
	} else {
		if !d.Intent.IsZero() {
			if wait := conn.SearchLag() - c.now().Sub(d.Intent); wait > 0 {
				return apperr.Later(wait, "an interrupted create may not be searchable yet")
			}
		}
		d.Intent = c.now()
		if err := c.DB.PutCRMDelivery(d.NotetakerID, d); err != nil {
			return err
		}
		if id, err = conn.CreateMeeting(ctx, m, contacts, deal); err != nil {
			return err
		}
	}
	d.RecordID, d.Intent, d.Hash, d.RecordURL = id, time.Time{}, hash, conn.RecordURL(id)
	return c.DB.PutCRMDelivery(d.NotetakerID, d)
}

// taskItem is one action item to turn into a task, with its marker.
type taskItem struct{ marker, text string }

// taskItems lists m's action items as tasks (none without
// TasksFromActionItems). The marker is the Notetaker ID and a hash of the
// item's text, so the same item keeps its task when the list is reordered.
func (c *CRM) taskItems(id string, m *connector.Meeting) []taskItem {
	if !c.TasksFromActionItems {
		return nil
	}
	var out []taskItem
	for _, text := range m.ActionItems {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		h := sha256.Sum256([]byte(strings.ToLower(text)))
		marker := id + "-ai-" + hex.EncodeToString(h[:6])
		if !slices.ContainsFunc(out, func(t taskItem) bool { return t.marker == marker }) {
			out = append(out, taskItem{marker: marker, text: text})
		}
	}
	return out
}

func tasksDone(d *store.CRMDelivery, items []taskItem) bool {
	for _, it := range items {
		if d.Tasks[it.marker] == "" {
			return false
		}
	}
	return true
}

// tasks creates each item's task once, with the meeting's protocol.
func (c *CRM) tasks(ctx context.Context, conn connector.CRM, d *store.CRMDelivery, items []taskItem, contacts []connector.Contact, deal string) error {
	for _, it := range items {
		if d.Tasks[it.marker] != "" {
			continue
		}
		if at, ok := d.TaskIntents[it.marker]; ok {
			id, err := conn.FindTask(ctx, it.marker)
			if errors.Is(err, connector.ErrUnsupported) {
				return nil
			} else if err != nil {
				return err
			}
			if id == "" {
				if wait := conn.SearchLag() - c.now().Sub(at); wait > 0 {
					return apperr.Later(wait, "an interrupted task create may not be searchable yet")
				}
			} else {
				c.taskDone(d, it.marker, id)
				if err := c.DB.PutCRMDelivery(d.NotetakerID, d); err != nil {
					return err
				}
				continue
			}
		}
		if d.TaskIntents == nil {
			d.TaskIntents = map[string]time.Time{}
		}
		d.TaskIntents[it.marker] = c.now()
		if err := c.DB.PutCRMDelivery(d.NotetakerID, d); err != nil {
			return err
		}
		id, err := conn.CreateTask(ctx, it.marker, it.text, d.RecordID, contacts, deal)
		if errors.Is(err, connector.ErrUnsupported) {
			delete(d.TaskIntents, it.marker)
			return c.DB.PutCRMDelivery(d.NotetakerID, d)
		} else if err != nil {
			return err
		}
		c.taskDone(d, it.marker, id)
		if err := c.DB.PutCRMDelivery(d.NotetakerID, d); err != nil {
			return err
		}
	}
	return nil
}

func (c *CRM) taskDone(d *store.CRMDelivery, marker, id string) {
	if d.Tasks == nil {
		d.Tasks = map[string]string{}
	}
	d.Tasks[marker] = id
	delete(d.TaskIntents, marker)
}

// externalParticipants lists participants outside the internal domains,
// e-mails lower-cased, once each, in participant order.
func externalParticipants(ps []nylas.Participant, internal []string) []connector.Participant {
	var out []connector.Participant
	for _, p := range ps {
		email, ok := externalAddress(p.Email, internal)
		if ok && !slices.ContainsFunc(out, func(q connector.Participant) bool { return q.Email == email }) {
			out = append(out, connector.Participant{Name: strings.TrimSpace(p.Name), Email: email})
		}
	}
	return out
}

// externalAddress normalises an e-mail address (trimmed, lower case) and
// reports whether it is a usable address outside the internal domains.
func externalAddress(email string, internal []string) (string, bool) {
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 {
		return email, false
	}
	domain := email[at+1:]
	return email, !slices.ContainsFunc(internal, func(d string) bool { return strings.EqualFold(d, domain) })
}

// meetingHash fingerprints what a record says and whom it is linked to, not
// its links' signatures, whose expiry changes on every run.
func meetingHash(m *connector.Meeting, contacts []connector.Contact, deal string) string {
	v := *m
	v.RecordingURL, v.TranscriptURL = presence(m.RecordingURL), presence(m.TranscriptURL)
	b, _ := json.Marshal(struct {
		M        connector.Meeting
		Contacts []connector.Contact
		Deal     string
	}{v, contacts, deal})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func presence(link string) string {
	if link == "" {
		return ""
	}
	return "link"
}
