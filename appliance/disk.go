package appliance

import (
	"context"
	"fmt"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// DiskCheck is a readiness Check failing while the file system holding path
// has less than min bytes free. free is the measuring function
// (datadir.DiskFree, or a fake in tests).
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
