package ops

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
)

func TestReplay(t *testing.T) {
	for _, tc := range []struct {
		name      string
		req       func(t0 time.Time) ReplayRequest
		wantRes   ReplayResult
		wantTasks map[string][]uint64 // task key → refs
		wantErr   error
		wantCode  string
	}{
		{
			name:      "one by id",
			req:       func(time.Time) ReplayRequest { return ReplayRequest{ID: "ntf-2"} },
			wantRes:   ReplayResult{Notifications: 1, Deliveries: 1},
			wantTasks: map[string][]uint64{"notetaker/nt-done": {2}},
		},
		{
			name:    "since: every later notification, unknown types skipped",
			req:     func(t0 time.Time) ReplayRequest { return ReplayRequest{Since: t0.Add(time.Hour)} },
			wantRes: ReplayResult{Notifications: 2, Skipped: 1, Deliveries: 1},
			wantTasks: map[string][]uint64{
				"notetaker/nt-done": {2},
				"booking/bk-1":      {3},
			},
		},
		{
			name:    "since: an archive not done is not redelivered",
			req:     func(t0 time.Time) ReplayRequest { return ReplayRequest{Since: t0} },
			wantRes: ReplayResult{Notifications: 3, Skipped: 1, Deliveries: 1},
			wantTasks: map[string][]uint64{
				"notetaker/nt-open": {1},
				"notetaker/nt-done": {2},
				"booking/bk-1":      {3},
			},
		},
		{name: "unknown id", req: func(time.Time) ReplayRequest { return ReplayRequest{ID: "ntf-nope"} }, wantErr: store.ErrNotFound},
		{name: "neither id nor since", req: func(time.Time) ReplayRequest { return ReplayRequest{} }, wantCode: apperr.EINVALID},
		{name: "both id and since", req: func(t0 time.Time) ReplayRequest { return ReplayRequest{ID: "ntf-1", Since: t0} }, wantCode: apperr.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestService(t)
			c := &clock{t: time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)}
			t0 := c.t
			s.DB.Now = c.Now
			// Stored without tasks: as if processing had finished.
			ingest(t, s.DB, "ntf-1", "notetaker.meeting_state", "nt-open")
			c.t = c.t.Add(2 * time.Hour)
			ingest(t, s.DB, "ntf-2", "notetaker.media", "nt-done")
			ingest(t, s.DB, "ntf-3", "booking.created", "bk-1")
			ingest(t, s.DB, "ntf-4", "message.created", "m-1")
			for id, done := range map[string]bool{"nt-open": false, "nt-done": true} {
				s.DB.UpdateNotetaker(id, func(nt *store.Notetaker) error { nt.ArchiveDone = done; return nil })
			}
			var redelivered []string
			s.Redeliver = func(_ context.Context, nt *store.Notetaker) error {
				redelivered = append(redelivered, nt.ID)
				return nil
			}

			res, err := s.Replay(context.Background(), tc.req(t0))
			switch {
			case tc.wantErr != nil || tc.wantCode != "":
				if (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || (tc.wantCode != "" && apperr.Code(err) != tc.wantCode) {
					t.Fatalf("err %v, want %v %s", err, tc.wantErr, tc.wantCode)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if *res != tc.wantRes {
				t.Fatalf("result %+v, want %+v", *res, tc.wantRes)
			}
			if !slices.Equal(redelivered, []string{"nt-done"}) {
				t.Fatalf("redelivered %v", redelivered)
			}
			tasks, _ := s.DB.Tasks()
			got := map[string][]uint64{}
			for _, task := range tasks {
				got[task.Key()] = task.Refs
			}
			if len(got) != len(tc.wantTasks) {
				t.Fatalf("tasks %v, want %v", got, tc.wantTasks)
			}
			for k, refs := range tc.wantTasks {
				if !slices.Equal(got[k], refs) {
					t.Fatalf("task %s refs %v, want %v (all: %v)", k, got[k], refs, got)
				}
			}
		})
	}
}

// TestReplay_RevivesDeadTask: replaying a notification whose task was
// dead-lettered brings the task back with the ref once.
func TestReplay_RevivesDeadTask(t *testing.T) {
	s := newTestService(t)
	ref := store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt-1"}
	seq := ingest(t, s.DB, "ntf-1", "notetaker.meeting_state", "nt-1", ref)
	leased, _, err := s.DB.Lease(1, time.Minute)
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease: %v %v", leased, err)
	}
	if err := s.DB.Fail(leased[0], "boom", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay(context.Background(), ReplayRequest{ID: "ntf-1"}); err != nil {
		t.Fatal(err)
	}
	task, err := s.DB.Task(ref.Key())
	if err != nil {
		t.Fatal(err)
	}
	if task.Dead || !slices.Equal(task.Refs, []uint64{seq}) {
		t.Fatalf("task after replay: dead %v refs %v", task.Dead, task.Refs)
	}
}
