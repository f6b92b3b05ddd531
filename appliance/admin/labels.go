package admin

import (
	"strconv"

	"github.com/notekeeper/notekeeper/store"
)

// Labels for what a bot and its media are doing, read the way a person
// would say them. Nylas' own words (state, meeting_state, media status)
// stay visible as the detail.

// Bot states a meeting can be filtered by (the list's "state" filter).
const (
	botScheduled = "scheduled"
	botJoining   = "joining"
	botInMeeting = "in_meeting"
	botFinished  = "finished"
	botNeverIn   = "never_in"
	botCancelled = "cancelled"
)

// botFilters are the state filter's choices, in order.
var botFilters = []choice{
	{"", "any state"}, {botScheduled, "scheduled"}, {botJoining, "joining"}, {botInMeeting, "in the meeting"},
	{botFinished, "finished"}, {botNeverIn, "never got in"}, {botCancelled, "cancelled"},
}

// choice is one option of a filter's select.
type choice struct{ Value, Label string }

// neverJoined: the bot ended without getting into the meeting, so nothing
// was recorded.
func neverJoined(nt *store.Notetaker) bool {
	return nt.State == "failed_entry" && nt.MediaStatus == "" && len(nt.Archived) == 0
}

// botKind classifies nt for the state filter.
func botKind(nt *store.Notetaker) string {
	switch {
	case neverJoined(nt):
		return botNeverIn
	case nt.MediaStatus != "" || len(nt.Archived) > 0 || nt.State == "disconnected":
		return botFinished
	case nt.Deleted:
		return botCancelled
	case nt.State == "attending":
		return botInMeeting
	case nt.State == "connecting" || nt.State == "waiting_for_entry":
		return botJoining
	}
	return botScheduled
}

// entryFailures says why a bot did not get in, by meeting_state.
var entryFailures = map[string]string{
	"admission_timeout":        "nobody let it in from the lobby within 10 minutes",
	"entry_denied":             "someone in the meeting denied it entry",
	"no_response":              "the meeting did not answer",
	"bad_meeting_code":         "the meeting code is wrong",
	"bad_meeting_link":         "the meeting link is wrong",
	"sign_in_required":         "the meeting requires participants to sign in",
	"meeting_capacity_reached": "the meeting was full",
	"cannot_join":              "the meeting provider would not let it join",
	"network_error":            "a network error stopped it",
	"internal_error":           "Nylas had an internal error",
	"cancelled":                "it was cancelled before it got in",
}

// endings says how a meeting ended for the bot, by meeting_state.
var endings = map[string]string{
	"meeting_ended":       "the meeting ended",
	"kicked":              "someone removed the bot",
	"no_activity":         "the bot left: nothing happened for a while",
	"no_meeting_activity": "the bot left: nothing happened for a while",
	"no_participants":     "the bot left: nobody else was there",
	"api_request":         "the bot was told to leave",
	"network_error":       "the bot lost its connection",
	"cancelled":           "the bot was cancelled",
}

// botState is what the bot did, as a person would say it.
func botState(nt *store.Notetaker) state {
	detail := nt.State
	if nt.MeetingState != "" {
		detail += " · " + nt.MeetingState
	}
	switch botKind(nt) {
	case botNeverIn:
		why := entryFailures[nt.MeetingState]
		if why == "" {
			why = "it could not join"
		}
		return state{Label: "Never got in", Class: "bad", Detail: "The bot did not get into the meeting: " + why + ". Nothing was recorded."}
	case botFinished:
		how := endings[nt.MeetingState]
		if how == "" {
			how = "the meeting is over"
		}
		return state{Label: "Finished", Class: "ok", Detail: how}
	case botCancelled:
		return state{Label: "Cancelled", Class: "muted", Detail: "the bot was deleted before the meeting"}
	case botInMeeting:
		return state{Label: "In the meeting, recording", Class: "warn", Detail: detail}
	case botJoining:
		return state{Label: "Joining", Class: "warn", Detail: "waiting to be let in · " + detail}
	}
	return state{Label: "Scheduled", Class: "muted", Detail: detail}
}

// mediaState is where the meeting's recording and texts are.
func mediaState(nt *store.Notetaker, archived, offered int) state {
	progress := strconv.Itoa(archived) + " of " + strconv.Itoa(offered) + " files"
	switch {
	case neverJoined(nt):
		return state{Label: "Nothing recorded", Class: "muted"}
	case nt.ArchiveDone && !nt.PrunedAt.IsZero():
		return state{Label: "Archived, local copies removed", Class: "muted", Detail: "retention removed the files; manifest.json stays"}
	case nt.ArchiveDone:
		return state{Label: "Archived", Class: "ok", Detail: progress}
	case nt.MediaStatus == "deleted":
		return state{Label: "Deleted by Nylas before it was archived", Class: "bad", Detail: progress}
	case nt.MediaStatus == "error":
		return state{Label: "Nylas reported a media error", Class: "bad", Detail: "notekeeper asks for the media again · " + progress}
	case nt.MediaStatus == "available":
		return state{Label: "Archiving", Class: "warn", Detail: progress}
	case nt.MediaStatus == "processing":
		return state{Label: "Nylas is preparing the recording", Class: "muted"}
	}
	return state{Label: "No recording yet", Class: "muted"}
}

// nothingToDeliver is the delivery state of a bot that never got in.
var nothingToDeliver = state{Label: "Nothing will be delivered", Class: "muted", Detail: "the bot never got into the meeting, so there is nothing to send"}
