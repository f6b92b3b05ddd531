package jobs_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/jobs"
)

func TestParseSpec(t *testing.T) {
	cases := []struct {
		name string
		spec string
		ok   bool
	}{
		{"every", "@every 30m", true},
		{"daily", "@daily", true},
		{"five fields", "*/15 * * * *", true},
		{"empty", "", false},
		{"seconds field not accepted", "0 */15 * * * *", false},
		{"bad duration", "@every soon", false},
		{"unknown descriptor", "@fortnightly", false},
		{"garbage", "every day", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := jobs.ParseSpec(tc.spec); (err == nil) != tc.ok {
				t.Fatalf("ParseSpec(%q) = %v, want ok=%v", tc.spec, err, tc.ok)
			}
		})
	}
}

func TestScheduler_RunsSkipsOverlapAndStops(t *testing.T) {
	s := jobs.New(nil)
	var runs, concurrent, overlap atomic.Int32
	started := make(chan struct{}, 10)
	err := s.Add("slow", "@every 1s", func(ctx context.Context) error {
		if concurrent.Add(1) > 1 {
			overlap.Add(1)
		}
		defer concurrent.Add(-1)
		runs.Add(1)
		started <- struct{}{}
		select { // longer than the period: the next tick must be skipped
		case <-time.After(1500 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add("slow", "@every 1s", nil); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := s.Add("bad", "@every never", nil); err == nil {
		t.Fatal("bad spec accepted")
	}
	if err := s.Add("off", "", nil); err != nil {
		t.Fatalf("empty spec must disable the job: %v", err)
	}
	s.Open()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("job never ran")
	}
	// Close cancels the running job's context and waits for it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if concurrent.Load() != 0 {
		t.Fatal("Close returned while a job was running")
	}
	if overlap.Load() != 0 {
		t.Fatal("runs overlapped")
	}
	if r := s.Runs(); len(r) != 1 || r[0].Name != "slow" || r[0].Started.IsZero() {
		t.Fatalf("runs = %+v", r)
	}
}
