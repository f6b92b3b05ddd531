package appliance

import (
	"context"
	"fmt"
	"syscall"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// DiskFree returns the bytes available to this process on the file system
// holding path.
func DiskFree(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// DiskCheck is a readiness Check failing while the file system holding path
// has less than min bytes free. free is the measuring function (DiskFree, or
// a fake in tests).
func DiskCheck(path string, min int64, free func(string) (uint64, error)) Check {
	return Check{Name: "disk", Fn: func(context.Context) error {
		n, err := free(path)
		if err != nil {
			return err
		}
		if int64(n) < min {
			return fmt.Errorf("%s free on %s, below min_free_bytes (%s)", datadir.FormatBytes(int64(n)), path, datadir.FormatBytes(min))
		}
		return nil
	}}
}
