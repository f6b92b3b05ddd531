package appliance

import (
	"context"
	"fmt"
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
			return fmt.Errorf("%s free on %s, below min_free_bytes (%s)", formatBytes(int64(n)), path, formatBytes(min))
		}
		return nil
	}}
}

// formatBytes renders n in binary units, e.g. "1.5 GiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
