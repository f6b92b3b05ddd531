package appliance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// CRM pushes archived meetings that belong to no booking into the CRM
// through its REST contract: participants from the calendar event, minus internal domains;
// contacts looked up by e-mail; one meeting record per Notetaker, created
// once and updated only when its content changes.
type CRM struct {
	DB                 *store.DB
	Nylas              *nylas.Client
	API                *outbound.Client
	ContactsSearchPath string
	MeetingsPath       string
	InternalDomains    []string
	Links              *links.Signer
	DataDir            string
	Logger             *slog.Logger
}

// crmMeeting is the meeting record sent to the CRM (POST/PATCH of
// MeetingsPath).
type crmMeeting struct {
	Subject              string   `json:"subject"`
	Summary              string   `json:"summary"`
	ActionItems          []string `json:"action_items"`
	AssociatedContactIDs []string `json:"associated_contact_ids"`
	AssociatedDealID     *string  `json:"associated_deal_id"`
	RecordingURL         string   `json:"recording_url"`
	TranscriptURL        string   `json:"transcript_url"`
	ExternalNotetakerID  string   `json:"external_notetaker_id"`
	Source               string   `json:"source"`
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

func (c *CRM) handle(ctx context.Context, t *store.Task) error {
	nt, err := c.DB.Notetaker(t.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !nt.ArchiveDone {
		return apperr.Later(5*time.Minute, "waiting for the archive")
	}
	if b, err := bookingOf(c.DB, nt); err != nil || b != nil {
		return err // an interview: the ATS's
	}
	st, err := c.DB.CRMDelivery(nt.ID)
	if errors.Is(err, store.ErrNotFound) {
		st = &store.CRMDelivery{}
	} else if err != nil {
		return err
	}
	if nt.GrantID == "" || nt.Event.EventID == "" {
		st.Skipped = "no grant or calendar event: participants unknown"
		return c.DB.PutCRMDelivery(nt.ID, st)
	}
	ev, err := calendarEvent(ctx, c.Nylas, nt) // kept by the archiver (meeting_info.go), else fetched
	if errors.Is(err, nylas.ErrNotFound) {
		return apperr.Permanent(err)
	} else if err != nil {
		return err
	}
	external := externalEmails(ev.Participants, c.InternalDomains)
	if len(external) == 0 {
		st.Skipped = "no external participant"
		return c.DB.PutCRMDelivery(nt.ID, st)
	}

	m := crmMeeting{Subject: ev.Title, ActionItems: []string{}, AssociatedContactIDs: []string{},
		ExternalNotetakerID: nt.ID, Source: "notekeeper"}
	st.Unmatched = nil
	for _, email := range external {
		var res struct {
			Results []struct {
				ID            string  `json:"id"`
				PrimaryDealID *string `json:"primary_deal_id"`
			} `json:"results"`
		}
		if err := c.API.Call(ctx, "GET", c.ContactsSearchPath+"?email="+url.QueryEscape(email), "", nil, &res); err != nil {
			return err
		}
		if len(res.Results) == 0 {
			st.Unmatched = append(st.Unmatched, email)
			c.Logger.Info("participant not in the CRM", slog.String("notetaker", nt.ID), slog.String("email", email))
			continue
		}
		m.AssociatedContactIDs = append(m.AssociatedContactIDs, res.Results[0].ID)
		if m.AssociatedDealID == nil && res.Results[0].PrimaryDealID != nil && *res.Results[0].PrimaryDealID != "" {
			m.AssociatedDealID = res.Results[0].PrimaryDealID
		}
	}
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
			if items := archive.ParseActionItems(b); items != nil {
				m.ActionItems = items
			}
		}
	}
	hash := contentHash(m)
	if st.RecordID != "" && st.Hash == hash {
		return nil // delivered, and nothing changed
	}
	if f, ok := nt.Archived["recording"]; ok {
		m.RecordingURL = c.Links.URL(nt.ID, f.Name)
	}
	if _, ok := nt.Archived["transcript"]; ok {
		m.TranscriptURL = c.Links.URL(nt.ID, "transcript.txt")
	}
	if st.RecordID == "" {
		// Created before a crash that lost our note of it? Find it.
		var found struct {
			Results []struct {
				ID string `json:"id"`
			} `json:"results"`
		}
		if err := c.API.Call(ctx, "GET", c.MeetingsPath+"?external_notetaker_id="+url.QueryEscape(nt.ID), "", nil, &found); err != nil {
			return err
		}
		if len(found.Results) > 0 {
			st.RecordID = found.Results[0].ID
		}
	}
	if st.RecordID != "" {
		err = c.API.Call(ctx, "PATCH", c.MeetingsPath+"/"+url.PathEscape(st.RecordID), "notekeeper-crm-"+nt.ID+"-"+hash[:16], m, nil)
	} else {
		var created struct {
			ID string `json:"id"`
		}
		err = c.API.Call(ctx, "POST", c.MeetingsPath, "notekeeper-crm-"+nt.ID, m, &created)
		st.RecordID = created.ID
	}
	if err != nil {
		return err
	}
	st.Hash, st.Skipped, st.DeliveredAt = hash, "", time.Now().UTC()
	return c.DB.PutCRMDelivery(nt.ID, st)
}

// externalEmails lists participants' e-mails outside the internal domains,
// lower-cased, once each, in participant order.
func externalEmails(ps []nylas.Participant, internal []string) []string {
	var out []string
	for _, p := range ps {
		if email, ok := externalAddress(p.Email, internal); ok && !slices.Contains(out, email) {
			out = append(out, email)
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

// contentHash fingerprints what a record says (not its links, whose expiry
// changes on every run).
func contentHash(m crmMeeting) string {
	b, _ := json.Marshal(m)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
