// Package measure holds what the benchmarks under bench/ share: reading a
// process's memory from /proc and reading and printing sizes.
package measure

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PeakRSS is this process's peak resident set (VmHWM), in bytes; 0 when
// /proc cannot be read.
func PeakRSS() int64 {
	_, hwm, _ := Memory(os.Getpid())
	return hwm
}

// Memory reads the resident set (VmRSS) and its peak (VmHWM) of process
// pid, in bytes.
func Memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// ParseSize reads a -size flag: bytes, or a number with KiB, MiB or GiB.
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return n * mult, nil
}

// FormatSize prints n bytes as "1.0 GiB", "9.4 MiB" or "512 B".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

// AnonRSS reads the anonymous part of process pid's resident set (RssAnon:
// heap, stacks; not the file pages of the mapped store), in bytes.
func AnonRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no RssAnon in /proc/%d/status", pid)
}
