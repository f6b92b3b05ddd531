package hubspot

// Tasks from action items: find by marker, create.

import (
	"context"
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// FindTask searches the task carrying marker.
func (c *Client) FindTask(ctx context.Context, marker string) (string, error) {
	if err := c.ensureMarker(ctx, "tasks", "taskinformation"); err != nil {
		return "", err
	}
	res, err := c.search(ctx, "tasks", []filterGroup{{Filters: []filter{{PropertyName: MarkerProperty, Operator: "EQ", Value: marker}}}}, []string{MarkerProperty})
	if err != nil {
		return "", err
	}
	for _, o := range res {
		if o.Properties[MarkerProperty] == marker {
			return string(o.ID), nil
		}
	}
	return "", nil
}

// CreateTask creates a to-do due in two days, linked to the contacts and
// the deal.
func (c *Client) CreateTask(ctx context.Context, marker, text, _ string, contacts []connector.Contact, dealID string) (string, error) {
	if err := c.ensureMarker(ctx, "tasks", "taskinformation"); err != nil {
		return "", err
	}
	props := map[string]string{
		"hs_timestamp":    stamp(c.now().Add(48 * time.Hour)),
		"hs_task_subject": connector.Cut(text, "", 250),
		"hs_task_body":    connector.Cut(text, "", bodyLimit),
		"hs_task_status":  "NOT_STARTED",
		"hs_task_type":    "TODO",
		MarkerProperty:    marker,
	}
	in := map[string]any{"properties": props, "associations": links(contacts, dealID, taskToContact, taskToDeal, 0)}
	var out object
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/crm/v3/objects/tasks", JSON: in, Out: &out, Create: true}); err != nil {
		return "", fmt.Errorf("create task: %w", err)
	}
	return string(out.ID), nil
}
