package nylas

import (
	"context"
	"time"
)

// NoSleep makes c record its back-off waits instead of sleeping.
func NoSleep(c *Client, waits *[]time.Duration) {
	c.sleep = func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
}
