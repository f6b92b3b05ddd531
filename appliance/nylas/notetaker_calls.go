package nylas

import (
	"context"
	"fmt"
	"net/http"
)

// NotetakerCreate asks for an ad-hoc bot. MeetingLink is required; a zero
// JoinTime (Unix seconds) joins at once; an empty Name takes Nylas' default
// "Nylas Notetaker".
type NotetakerCreate struct {
	MeetingLink string
	JoinTime    int64
	Name        string
	Settings    BotSettings
}

// wireNotetakerCreate is the Nylas OpenAPI's notetakers request body.
type wireNotetakerCreate struct {
	MeetingLink     string               `json:"meeting_link"`
	JoinTime        int64                `json:"join_time,omitempty"`
	Name            string               `json:"name,omitempty"`
	MeetingSettings *wireMeetingSettings `json:"meeting_settings,omitempty"`
}

// encodeNotetakerCreate is the body of CreateNotetaker.
func encodeNotetakerCreate(r NotetakerCreate) wireNotetakerCreate {
	return wireNotetakerCreate{MeetingLink: r.MeetingLink, JoinTime: r.JoinTime, Name: r.Name,
		MeetingSettings: encodeBotSettings(r.Settings)}
}

// CreateNotetaker sends a bot to r.MeetingLink (POST
// /v3/grants/{grant}/notetakers, or /v3/notetakers for a standalone bot
// when grantID is empty) and returns it (201).
//
// Nylas does not deduplicate bots and takes no Idempotency-Key here: every
// POST that reaches it invites one more bot. The client therefore retries
// only on 429 and 503, answers that say nothing was created; after a
// timeout, a dropped connection or a 5xx a bot may exist. Callers look for
// it (ListNotetakers around the join time, matching the meeting link)
// before asking again; provision.JoinBot does.
//
// Errors: an *Error for a non-2xx answer (400 for a past join time or a bad
// link); an error without a request for an empty MeetingLink or a bad
// grant ID; ctx's error when it ends first.
func (c *Client) CreateNotetaker(ctx context.Context, grantID string, r NotetakerCreate) (*Notetaker, error) {
	path, err := notetakersPath(grantID)
	if err == nil && r.MeetingLink == "" {
		err = fmt.Errorf("meeting_link is required")
	}
	if err != nil {
		return nil, fmt.Errorf("create notetaker: %w", err)
	}
	var n Notetaker
	if err := c.object(ctx, http.MethodPost, path, nil, encodeNotetakerCreate(r), &n); err != nil {
		return nil, fmt.Errorf("create notetaker for %q: %w", r.MeetingLink, err)
	}
	return &n, nil
}

// CancelNotetaker cancels a bot that has not joined yet (DELETE
// …/notetakers/{id}/cancel), with the grant rule of GetNotetaker. It is not
// the hard delete (DELETE …/notetakers/{id}), which erases the bot's data
// and is never used.
//
// Errors: ErrNotFound for a 404; an *Error with Status 409 when the bot is
// past the states cancel accepts (scheduled; perhaps connecting and
// waiting_for_entry, which sources dispute); as GetNotetaker otherwise.
func (c *Client) CancelNotetaker(ctx context.Context, grantID, id string) error {
	path, err := notetakerPath(grantID, id)
	if err != nil {
		return fmt.Errorf("cancel notetaker: %w", err)
	}
	if _, err := c.send(ctx, http.MethodDelete, path+"/cancel", nil, nil); err != nil {
		return fmt.Errorf("cancel notetaker %q: %w", id, err)
	}
	return nil
}

// LeaveNotetaker makes a bot in a meeting leave it (POST
// …/notetakers/{id}/leave). A bot already leaving is answered 202 and
// counts as success. Being a POST, it is retried only on 429 and 503.
//
// Errors: ErrNotFound for a 404; an *Error with Status 409 when the bot is
// not in a meeting; as GetNotetaker otherwise.
func (c *Client) LeaveNotetaker(ctx context.Context, grantID, id string) error {
	path, err := notetakerPath(grantID, id)
	if err != nil {
		return fmt.Errorf("leave notetaker: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, path+"/leave", nil, struct{}{}); err != nil {
		return fmt.Errorf("make notetaker %q leave: %w", id, err)
	}
	return nil
}
