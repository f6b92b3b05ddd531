package appliance

import (
	"context"

	"github.com/notekeeper/notekeeper/store"
)

// HandleFollowup runs the follow-up handler once, as a worker would.
func (f *Followup) HandleFollowup(ctx context.Context, t *store.Task) error { return f.handle(ctx, t) }
