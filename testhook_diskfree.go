package main

// A test seam, not a feature: nothing here is an operator setting.

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// testDiskFreeEnv names the disk-free test seam. When the variable is set,
// the file it names holds the free bytes (a decimal number) the appliance
// believes its data dir has, read afresh at every measurement. It exists
// because the soak test (e2e/soak_test.go) drives the real binary and must
// open and close a disk-full window on it while it runs, which no real
// disk can do on cue. Only the wiring (diskFree, for the archiver, the
// readiness check, the metrics and status) reads it; it is not documented
// for operators.
const testDiskFreeEnv = "NOTEKEEPER_TEST_DISK_FREE_FILE"

// diskFree is the free-space function the wiring hands out:
// datadir.DiskFree, or with the seam set, a reader of its file.
func diskFree() func(path string) (uint64, error) {
	hook := os.Getenv(testDiskFreeEnv)
	if hook == "" {
		return datadir.DiskFree
	}
	return func(string) (uint64, error) {
		b, err := os.ReadFile(hook)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", testDiskFreeEnv, err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", testDiskFreeEnv, err)
		}
		return n, nil
	}
}
