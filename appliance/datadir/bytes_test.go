package datadir

import "testing"

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int64
		want string
	}{
		{"zero", 0, "0 B"},
		{"bytes", 512, "512 B"},
		{"just below a KiB", 1023, "1023 B"},
		{"one KiB", 1024, "1.0 KiB"},
		{"a KiB and a half", 1536, "1.5 KiB"},
		{"GiB", 2 << 30, "2.0 GiB"},
		{"the default max_file_bytes", 10737418240, "10.0 GiB"},
		{"EiB", 1 << 62, "4.0 EiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatBytes(tc.n); got != tc.want {
				t.Errorf("FormatBytes(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}
