package e2e

// The soak's world: the meetings it invents from the seed, their media and
// the notifications Nylas would send about them.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"
)

// soakKind is what happens to one meeting.
type soakKind string

const (
	kindSales       soakKind = "sales"        // bot joins, media available, archived, one CRM record
	kindInterview   soakKind = "interview"    // booked: booking.created (maybe rescheduled), media, ATS interview + recording
	kindCancelled   soakKind = "cancelled"    // booked then cancelled, no bot: ATS interview created then cancelled
	kindFailedEntry soakKind = "failed_entry" // bot stuck in the lobby: notetaker.failed_entry alert
	kindMediaError  soakKind = "media_error"  // media error first (alert), then available
	kindDoomed      soakKind = "doomed"       // Nylas' deletion date already passed: at_risk/failed alert
	kindDeletedBot  soakKind = "deleted_bot"  // created, updated, deleted; nothing else
)

// soakGrant is the grant every meeting belongs to; the appliance reconciles it.
const soakGrant = "grant-soak"

// soakFile is one media file as the storage stand-in serves it.
type soakFile struct {
	Kind, Name, Type string
	Data             []byte
	SHA256           string
}

// soakMeeting is one invented meeting and what the schedule does to it.
type soakMeeting struct {
	N         int
	ID        string // Notetaker ID
	Kind      soakKind
	EventID   string
	BookingID string // interview, cancelled
	Customer  string // the external participant's e-mail
	Missed    bool   // its available notification is never delivered: reconciliation must find it
	Near      bool   // Nylas deletes its media within [archive] at_risk
	Expired   bool   // the webhook's links have already expired when delivered
	Reject    bool   // the CRM answers its POST with 400, always
	Resched   bool   // interview: rescheduled once
	Deleted   bool   // doomed: a media_deleted notification follows
	Swap      bool   // out of order: media before meeting_state, cancel before create
	Files     []soakFile
	Start     time.Time // interview start (rescheduled: the new one)
	DeletesAt time.Time

	ready atomic.Bool // the API lists its media as available and the media endpoint answers
	base  int64       // envelope time of its first notification
}

// file returns the media file named name.
func (m *soakMeeting) file(name string) (soakFile, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return soakFile{}, false
}

// archives reports whether the appliance must end with all of m's media.
func (m *soakMeeting) archives() bool {
	return m.Kind == kindSales || m.Kind == kindInterview || m.Kind == kindMediaError
}

// crm reports whether m's archive goes to the CRM.
func (m *soakMeeting) crm() bool { return m.Kind == kindSales || m.Kind == kindMediaError }

// newSoakMeeting invents meeting n from r.
func newSoakMeeting(n int, r *rand.Rand, now time.Time) *soakMeeting {
	m := &soakMeeting{N: n, ID: fmt.Sprintf("ntSoak%05d", n), EventID: fmt.Sprintf("evt-soak-%05d", n),
		Customer: fmt.Sprintf("buyer%d@customer%d.example", n, n%7), base: now.Unix(), DeletesAt: now.Add(14 * 24 * time.Hour).Truncate(time.Second)}
	switch p := r.Float64(); {
	case p < 0.48:
		m.Kind = kindSales
	case p < 0.68:
		m.Kind = kindInterview
	case p < 0.75:
		m.Kind = kindCancelled
	case p < 0.81:
		m.Kind = kindFailedEntry
	case p < 0.87:
		m.Kind = kindMediaError
	case p < 0.94:
		m.Kind = kindDoomed
	default:
		m.Kind = kindDeletedBot
	}
	if m.Kind == kindInterview || m.Kind == kindCancelled {
		m.BookingID = fmt.Sprintf("bkg-soak-%05d", n)
		m.Start = now.Add(time.Duration(1+r.IntN(72)) * time.Hour).Truncate(time.Minute)
		m.Resched = m.Kind == kindInterview && r.Float64() < 0.3
	}
	switch m.Kind {
	case kindSales, kindInterview, kindMediaError:
		m.Missed = r.Float64() < 0.07
		m.Near = r.Float64() < 0.08
		m.Expired = !m.Missed && r.Float64() < 0.08
		m.Swap = r.Float64() < 0.3
		if m.Near {
			m.DeletesAt = now.Add(30 * time.Minute).Truncate(time.Second)
		}
	case kindDoomed:
		m.Deleted = r.Float64() < 0.5
		m.DeletesAt = now.Add(-time.Hour).Truncate(time.Second) // the clock moved past the deadline
	case kindCancelled:
		m.Swap = r.Float64() < 0.5
	}
	if m.Kind != kindCancelled && m.Kind != kindFailedEntry && m.Kind != kindDeletedBot {
		m.Files = soakMedia(m.ID, r)
	}
	return m
}

// soakMedia invents the five media files of one meeting.
func soakMedia(id string, r *rand.Rand) []soakFile {
	rec := make([]byte, 16<<10+r.IntN(176<<10))
	for i := range rec {
		rec[i] = byte(r.Uint32())
	}
	thumb := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2<<10+r.IntN(6<<10))...)
	for i := 8; i < len(thumb); i++ {
		thumb[i] = byte(r.Uint32())
	}
	var segs []map[string]any
	for i := range 3 + r.IntN(20) {
		segs = append(segs, map[string]any{"speaker": []string{"Sarah", "Jo", "Dana"}[i%3],
			"start": i * 4000, "end": i*4000 + 3500, "text": fmt.Sprintf("%s segment %d of %s", strings.Repeat("word ", r.IntN(30)), i, id)})
	}
	transcript, _ := json.Marshal(map[string]any{"object": "transcript", "type": "speaker_labelled", "transcript": segs})
	summary, _ := json.Marshal(map[string]any{"summary": fmt.Sprintf("Meeting %s: %d things agreed.", id, r.IntN(9))})
	actions, _ := json.Marshal([]string{"Send the proposal to " + id, fmt.Sprintf("Follow up in %d days", 1+r.IntN(14))})
	files := []soakFile{
		{Kind: "recording", Name: "recording.mp4", Type: "video/mp4", Data: rec},
		{Kind: "thumbnail", Name: "thumbnail.png", Type: "image/png", Data: thumb},
		{Kind: "transcript", Name: "transcript.json", Type: "application/json", Data: transcript},
		{Kind: "summary", Name: "summary.json", Type: "application/json", Data: summary},
		{Kind: "action_items", Name: "action_items.json", Type: "application/json", Data: actions},
	}
	for i := range files {
		sum := sha256.Sum256(files[i].Data)
		files[i].SHA256 = hex.EncodeToString(sum[:])
	}
	return files
}

// soakStep is one notification of a meeting's life.
type soakStep struct {
	ID    string // envelope id
	Type  string
	State string // the object's state (media or bot), for the record
	Body  []byte
	Skip  bool // never delivered (the missed webhook)
	Late  bool // delivered out of order
	Ready bool // once sent (or skipped), the API lists the media as available
}

// steps is the meeting's notifications in delivery order.
func (m *soakMeeting) steps(storage *soakStorage) []soakStep {
	var out []soakStep
	k := 0
	add := func(typ, state string, obj map[string]any) *soakStep {
		k++
		id := fmt.Sprintf("ntf-%s-%02d", m.ID, k)
		body, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": typ, "source": "/nylas/notetaker",
			"id": id, "time": m.base + int64(k), "webhook_delivery_attempt": 1,
			"data": map[string]any{"application_id": "app-soak", "object": obj}})
		out = append(out, soakStep{ID: id, Type: typ, State: state, Body: body})
		return &out[len(out)-1]
	}
	bot := func(state, meetingState string) map[string]any {
		o := map[string]any{"id": m.ID, "grant_id": soakGrant, "object": "notetaker", "meeting_provider": "Google Meet",
			"meeting_link": "https://meet.google.com/soak-" + m.ID, "join_time": m.base,
			"event": map[string]any{"ical_uid": m.EventID + "@google.com", "event_id": m.EventID, "master_event_id": m.EventID},
			"state": state, "status": state}
		if meetingState != "" {
			o["meeting_state"] = meetingState
		}
		return o
	}
	booking := func(start time.Time, old bool) map[string]any {
		info := map[string]any{"event_id": m.EventID, "ical_uid": m.EventID + "@google.com",
			"start_time": start.Unix(), "end_time": start.Add(45 * time.Minute).Unix(),
			"participants": []map[string]string{{"email": m.Customer, "name": "Candidate " + m.ID}, {"email": "recruiter@soak.example", "name": "Sarah"}},
			"title":        "Interview " + m.ID, "duration": 45, "location": "https://meet.google.com/soak-" + m.ID,
			"organizer_calendar_id": "primary"}
		if m.Kind == kindInterview {
			info["notetaker_id"] = m.ID
		}
		if old {
			info["old_start_time"], info["old_end_time"] = m.Start.Unix(), m.Start.Add(45*time.Minute).Unix()
		}
		return map[string]any{"booking_id": m.BookingID, "configuration_id": "cfg-soak", "object": "booking", "booking_info": info}
	}
	media := func(state string) map[string]any {
		o := bot(state, "")
		if state == "available" {
			exp := time.Now().Add(time.Hour)
			if m.Expired {
				exp = time.Now().Add(-time.Minute)
			}
			md := map[string]any{"recording_file_format": "mp4", "recording_duration": "1800", "retained_until": m.DeletesAt.Unix()}
			for _, f := range m.Files {
				md[f.Kind] = storage.url(m.ID, f.Name, exp)
			}
			o["media"] = md
		}
		return o
	}
	switch m.Kind {
	case kindCancelled:
		add("booking.created", "created", booking(m.Start, false))
		add("booking.cancelled", "cancelled", booking(m.Start, false))
		if m.Swap {
			out[0], out[1] = out[1], out[0]
			out[0].Late = true
		}
		return out
	case kindInterview:
		first := m.Start
		if m.Resched {
			first = m.Start.Add(-24 * time.Hour)
			add("booking.created", "created", booking(first, false))
			add("booking.rescheduled", "rescheduled", booking(m.Start, true))
		} else {
			add("booking.created", "created", booking(first, false))
		}
	}
	add("notetaker.created", "scheduled", bot("scheduled", ""))
	switch m.Kind {
	case kindDeletedBot:
		add("notetaker.updated", "scheduled", bot("scheduled", ""))
		add("notetaker.deleted", "deleted", map[string]any{"id": m.ID, "grant_id": soakGrant, "object": "notetaker"})
		return out
	case kindFailedEntry:
		add("notetaker.meeting_state", "connecting", bot("connecting", "waiting_for_entry"))
		add("notetaker.meeting_state", "failed_entry", bot("failed_entry", "admission_timeout"))
		return out
	}
	add("notetaker.meeting_state", "attending", bot("attending", "recording_active"))
	ended := len(out)
	add("notetaker.meeting_state", "disconnected", bot("disconnected", "meeting_ended"))
	add("notetaker.media", "processing", media("processing"))
	if m.Kind == kindMediaError {
		add("notetaker.media", "media_error", media("media_error")).Ready = true
	}
	av := add("notetaker.media", "available", media("available"))
	av.Skip, av.Ready = m.Missed, m.Kind != kindDoomed
	if m.Kind == kindDoomed && m.Deleted {
		add("notetaker.media", "media_deleted", media("media_deleted"))
	}
	if m.Swap && !m.Missed {
		// Media processing and available before the bot's "disconnected".
		avail := len(out) - 1
		if m.Kind == kindDoomed && m.Deleted {
			avail--
		}
		s := out[ended]
		copy(out[ended:avail], out[ended+1:avail+1])
		out[avail] = s
		out[avail].Late = true
	}
	return out
}

// grantSteps are the grant notifications: a few other grants expire, and
// half of them are re-authenticated later.
func grantSteps(n int, r *rand.Rand) []soakStep {
	var out []soakStep
	base := time.Now().Unix()
	for i := range n {
		grant := fmt.Sprintf("grant-expiring-%d", i)
		obj := map[string]any{"code": 25009, "grant_id": grant, "provider": "google", "email": fmt.Sprintf("user%d@soak.example", i)}
		for j, typ := range []string{"grant.expired", "grant.updated"} {
			if j == 1 {
				if r.Float64() < 0.5 {
					break
				}
				obj["reauthentication_flag"] = true
			}
			id := fmt.Sprintf("ntf-%s-%d", grant, j)
			body, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": typ, "source": "/nylas/system", "id": id,
				"time": base + int64(j), "data": map[string]any{"application_id": "app-soak", "object": obj}})
			out = append(out, soakStep{ID: id, Type: typ, State: grant, Body: body})
		}
	}
	return out
}
