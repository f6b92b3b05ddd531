package demo

import (
	"strconv"
	"time"
)

// Step is one notification of the demo's script.
type Step struct {
	Scenario string // "sales meeting", "booked interview", "bot stuck in the lobby"
	Type     string // notification type
	ID       string // envelope id
	Body     []byte // exactly the bytes to sign and post
	// AwaitBooking, when set, is a booking the appliance must have recorded
	// before the next step is sent: its meeting's media must find the
	// booking to go to the ATS rather than the CRM.
	AwaitBooking string
}

// Script returns the demo's notifications, in order, for a simulator
// opened at start (its Start): (a) the sales meeting — created, attending,
// media available, its recording link already expired so that notekeeper
// must ask the media endpoint for a fresh one; (b) the booked interview —
// booking.created naming the bot, created, media available; (c) the bot
// stuck in the lobby — created, meeting_state failed_entry. Payloads are
// the fixtures with IDs, times and links changed.
func Script(sim *Simulator, base string) []Step {
	start := sim.Start
	sales, iv, lobby := Sales(), InterviewBooking(start), Lobby()
	n := 0
	step := func(m *Meeting, fixtureName string, when time.Time, edit func(env, obj object)) Step {
		n++
		env := fixture(fixtureName)
		id := "ntf-demo-" + strconv.Itoa(n)
		env["id"], env["time"] = id, when.Unix()
		obj := at(env, "data", "object")
		if m != nil {
			notetaker(obj, m, start)
		}
		if edit != nil {
			edit(env, obj)
		}
		scenario := ""
		if m != nil {
			scenario = m.Scenario
		}
		return Step{Scenario: scenario, Type: env["type"].(string), ID: id, Body: compact(env)}
	}
	join := JoinTime(start)
	media := func(m *Meeting, expired string) func(env, obj object) {
		return func(_, obj object) {
			md := at(obj, "media")
			for _, kind := range []string{"recording", "thumbnail", "transcript", "summary", "action_items"} {
				exp := start.Add(sim.LinkTTL)
				if kind == expired {
					exp = start.Add(-time.Minute)
				}
				md[kind] = sim.MediaURL(base, m.NotetakerID, kind, exp)
			}
			md["recording_duration"] = strconv.Itoa(RecordingSeconds)
			md["recording_file_format"] = "mp4"
			md["retained_until"] = DeletesAt(start).Unix()
		}
	}
	steps := []Step{
		step(sales, "notetaker-created.json", join.Add(-2*time.Hour), nil),
		step(sales, "notetaker-meeting-state-attending.json", join.Add(time.Minute), nil),
		step(sales, "notetaker-media-available.json", start.Add(-time.Minute), media(sales, "recording")),
	}
	booking := step(nil, "booking-created.json", start.Add(-24*time.Hour), func(_, obj object) {
		obj["booking_id"], obj["configuration_id"] = iv.ID, iv.ConfigurationID
		info := at(obj, "booking_info")
		m := iv.Meeting
		info["event_id"], info["ical_uid"], info["title"], info["location"] = m.EventID, m.ICalUID, m.Title, m.MeetingLink
		info["start_time"], info["end_time"] = iv.Start.Unix(), iv.End.Unix()
		info["duration"] = int(iv.End.Sub(iv.Start) / time.Minute)
		info["participants"] = []any{
			object{"email": iv.Candidate.Email, "name": iv.Candidate.Name},
			object{"email": m.Organizer.Email, "name": m.Organizer.Name},
		}
		info["additional_fields"] = object{"role": iv.Role}
		info["organizer_calendar_id"] = m.CalendarID
		info["notetaker_id"] = m.NotetakerID
	})
	booking.Scenario, booking.AwaitBooking = iv.Meeting.Scenario, iv.ID
	return append(steps,
		booking,
		step(iv.Meeting, "notetaker-created.json", start.Add(-23*time.Hour), nil),
		step(iv.Meeting, "notetaker-media-available.json", start.Add(-time.Minute), media(iv.Meeting, "")),
		step(lobby, "notetaker-created.json", join.Add(-time.Hour), nil),
		step(lobby, "notetaker-meeting-state-failed-entry.json", join.Add(10*time.Minute), func(_, obj object) {
			obj["state"], obj["status"], obj["meeting_state"] = lobby.State, lobby.State, lobby.MeetingState
		}),
	)
}

// notetaker fills a Notetaker notification object with m's IDs and links.
func notetaker(obj object, m *Meeting, start time.Time) {
	obj["id"], obj["grant_id"], obj["meeting_link"] = m.NotetakerID, m.GrantID, m.MeetingLink
	obj["join_time"] = JoinTime(start).Unix()
	ev := at(obj, "event")
	ev["event_id"], ev["ical_uid"], ev["master_event_id"] = m.EventID, m.ICalUID, m.EventID
}
