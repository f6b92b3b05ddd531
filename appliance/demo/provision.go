package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/provision"
)

// Provision runs what `notekeeper nylas plan`, `apply` and `plan` again
// print, with p against the simulator, and returns the text for the report.
// A first plan with nothing pending is an error: the simulator starts empty.
func Provision(ctx context.Context, p *provision.Provisioner) (string, error) {
	var b strings.Builder
	for i, step := range []string{"plan", "apply", "plan"} {
		fmt.Fprintf(&b, "  $ notekeeper nylas %s\n", step)
		var out strings.Builder
		if step == "apply" {
			if err := p.Apply(ctx, &out); err != nil {
				return "", fmt.Errorf("nylas apply: %w", err)
			}
		} else {
			plan, err := p.Plan(ctx)
			if err != nil {
				return "", fmt.Errorf("nylas plan: %w", err)
			}
			plan.WriteTo(&out)
			if i == 0 && !plan.Pending() {
				return "", errors.New("nylas plan: nothing pending on a fresh simulator")
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if strings.HasPrefix(l, "booking page ") && strings.Contains(l, "https://") {
				// The simulator made the configuration; no such page exists.
				l += " (simulated: with a real Nylas application this page is live)"
			}
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	return b.String(), nil
}
