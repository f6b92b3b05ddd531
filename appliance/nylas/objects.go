package nylas

// The shapes of a webhook notification's data.object that notekeeper reads
// (decode them with envelope.DecodeObject). Fields are optional in practice;
// unknown fields are ignored. Times are Unix seconds.

// NotetakerObject is data.object of notetaker.* notifications.
type NotetakerObject struct {
	ID              string `json:"id"`
	GrantID         string `json:"grant_id"`
	MeetingProvider string `json:"meeting_provider"`
	MeetingLink     string `json:"meeting_link"`
	JoinTime        int64  `json:"join_time"`
	Event           struct {
		ICalUID       string `json:"ical_uid"`
		EventID       string `json:"event_id"`
		MasterEventID string `json:"master_event_id"`
	} `json:"event"`
	CalendarID   string `json:"calendar_id"`
	State        string `json:"state"`
	Status       string `json:"status"`
	MeetingState string `json:"meeting_state"`
	Media        *struct {
		Recording           string `json:"recording"`
		Transcript          string `json:"transcript"`
		Summary             string `json:"summary"`
		ActionItems         string `json:"action_items"`
		Thumbnail           string `json:"thumbnail"`
		RecordingFileFormat string `json:"recording_file_format"`
		RetainedUntil       int64  `json:"retained_until"`
	} `json:"media"`
}

// MediaURLs returns the media links of the object by kind (only those
// present).
func (o *NotetakerObject) MediaURLs() map[string]string {
	if o.Media == nil {
		return nil
	}
	urls := map[string]string{}
	for kind, u := range map[string]string{
		"recording": o.Media.Recording, "transcript": o.Media.Transcript, "summary": o.Media.Summary,
		"action_items": o.Media.ActionItems, "thumbnail": o.Media.Thumbnail,
	} {
		if u != "" {
			urls[kind] = u
		}
	}
	return urls
}

// CurrentState reads state, falling back to status (Nylas sends both, same
// value).
func (o *NotetakerObject) CurrentState() string {
	if o.State != "" {
		return o.State
	}
	return o.Status
}

// BookingObject is data.object of booking.* notifications.
type BookingObject struct {
	BookingID       string `json:"booking_id"`
	ConfigurationID string `json:"configuration_id"`
	BookingInfo     struct {
		EventID      string `json:"event_id"`
		ICalUID      string `json:"ical_uid"`
		StartTime    int64  `json:"start_time"`
		EndTime      int64  `json:"end_time"`
		Participants []struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"participants"`
		Title               string `json:"title"`
		Location            string `json:"location"`
		OrganizerTimezone   string `json:"organizer_timezone"`
		OrganizerCalendarID string `json:"organizer_calendar_id"`
		NotetakerID         string `json:"notetaker_id"`
		CancellationReason  string `json:"cancellation_reason"`
	} `json:"booking_info"`
}

// GrantObject is data.object of grant.* notifications.
type GrantObject struct {
	GrantID              string `json:"grant_id"`
	Provider             string `json:"provider"`
	Email                string `json:"email"`
	ReauthenticationFlag bool   `json:"reauthentication_flag"`
	Code                 int    `json:"code"`
}

// MediaStatus normalises the spellings of a Notetaker media state (webhook
// and REST, old and new) to processing, available, error or deleted. Unknown
// values are returned as they are: they are data, not errors.
func MediaStatus(s string) string {
	switch s {
	case "processing", "media_processing":
		return "processing"
	case "available", "media_available":
		return "available"
	case "error", "media_error":
		return "error"
	case "deleted", "media_deleted":
		return "deleted"
	}
	return s
}
