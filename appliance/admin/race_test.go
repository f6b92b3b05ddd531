//go:build race

package admin_test

// raceSlowdown relaxes timing bounds under the race detector.
const raceSlowdown = 10
