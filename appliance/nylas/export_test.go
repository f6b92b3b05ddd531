package nylas

import (
	"context"
	"sync"
	"time"
)

// Waits records the back-off waits of a client made by RecordWaits.
type Waits struct {
	mu sync.Mutex
	d  []time.Duration
}

// All returns the waits so far.
func (w *Waits) All() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// RecordWaits makes c record its back-off waits instead of sleeping. A
// cancelled ctx still ends the wait with ctx.Err(), as a real sleep would.
func RecordWaits(c *Client) *Waits {
	w := &Waits{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		w.mu.Lock()
		w.d = append(w.d, d)
		w.mu.Unlock()
		return ctx.Err()
	}
	return w
}

// Limits exposes the body limits so tests can straddle them.
const (
	MaxBody      = maxBody
	MaxErrorBody = maxErrorBody
)
