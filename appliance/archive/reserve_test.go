package archive_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir/datadirtest"
)

// TestFetch_Reserve: a download never takes the disk below Reserve.Keep,
// whether storage announces the size or not; a refusal deletes the partial
// (issue 18 #1).
func TestFetch_Reserve(t *testing.T) {
	const (
		size  = 1 << 20
		every = 64 << 10
		keep  = 1 << 20
	)
	for _, tc := range []struct {
		name      string
		chunked   bool
		headroom  int64 // free space above keep before the download
		expect    int64 // Request.Expect
		wantErr   bool
		maxBefore int64 // bytes that may be written before the refusal
	}{
		{"announced size fits", false, 2 * size, 0, false, size},
		{"announced size would cross the reserve", false, size - 1, 0, true, 0},
		{"Nylas' size would cross the reserve", true, size / 2, size, true, 0},
		{"unannounced stream fits", true, 2 * size, 0, false, size},
		{"unannounced stream stops at the reserve", true, size / 2, 0, true, size / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStorage(t, size)
			s.set(func(k *knobs) { k.chunked = tc.chunked })
			dir := t.TempDir()
			var written atomic.Int64 // what the fake disk holds: the partial's size
			var calls atomic.Int32
			free := func() (uint64, error) {
				calls.Add(1)
				fi, err := os.Stat(partialPath(dir, "recording.mp4"))
				var n int64
				if err == nil {
					n = fi.Size()
				}
				written.Store(max(written.Load(), n))
				return uint64(keep + tc.headroom - n), nil
			}
			_, err := fetcher().Fetch(context.Background(), archive.Request{
				URL: s.url(), Dir: dir, Name: "recording.mp4", Expect: tc.expect,
				Reserve: &archive.Reserve{Free: free, Keep: keep, Every: every},
			})
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, archive.ErrNoSpace)) {
				t.Fatalf("Fetch: %v, want ErrNoSpace: %v", err, tc.wantErr)
			}
			if written.Load() > tc.maxBefore {
				t.Errorf("%d bytes written before the refusal, at most %d", written.Load(), tc.maxBefore)
			}
			if tc.wantErr {
				datadirtest.AssertOnly(t, dir)
			} else {
				datadirtest.AssertFile(t, dir, "recording.mp4", s.data)
			}
			if tc.chunked && !tc.wantErr && calls.Load() < size/every {
				t.Errorf("free space asked %d times over %d bytes, want every %d", calls.Load(), size, every)
			}
		})
	}
}

// TestFetch_ReserveFreeFails: when free space cannot be measured the
// download does not go ahead blind.
func TestFetch_ReserveFreeFails(t *testing.T) {
	s := newStorage(t, 4096)
	_, err := fetcher().Fetch(context.Background(), archive.Request{
		URL: s.url(), Dir: t.TempDir(), Name: "recording.mp4",
		Reserve: &archive.Reserve{Free: func() (uint64, error) { return 0, fmt.Errorf("statfs: %w", os.ErrPermission) }, Keep: 1},
	})
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("Fetch: %v, want the statfs error", err)
	}
}
