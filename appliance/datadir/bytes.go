package datadir

import "fmt"

// FormatBytes renders n in binary units with one decimal: "512 B",
// "1.5 KiB", "2.0 GiB". It is the one byte formatter of notekeeper: free
// space in messages, file sizes in the admin UI and the CLI.
func FormatBytes(n int64) string {
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
