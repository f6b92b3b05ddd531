package main

import (
	"bufio"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/bench/internal/measure"
	"github.com/notekeeper/notekeeper/store"
)

// daemon is `notekeeper serve` run as its own process, as a user's server
// runs it, with the load generator in this one.
type daemon struct {
	measure.Daemon
	webhookURL, metricsURL string
}

// startDaemon builds the binary into dir, writes a config whose data dir
// is dir/data, starts it and waits for /readyz.
func startDaemon(dir string) (*daemon, error) {
	md, url, metricsURL, err := measure.NewDaemon(dir, measure.DaemonConfig{DataDir: filepath.Join(dir, "data"), Secret: secret})
	if err != nil {
		return nil, err
	}
	d := &daemon{Daemon: *md, webhookURL: url + "/webhooks/nylas", metricsURL: metricsURL}
	if _, err := d.Start(30 * time.Second); err != nil {
		return nil, err
	}
	return d, nil
}

// commitStats reads the store writer's totals from the daemon's /metrics.
func (d *daemon) commitStats() (store.CommitStats, error) {
	var cs store.CommitStats
	resp, err := http.Get(d.metricsURL)
	if err != nil {
		return cs, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "notekeeper_store_commits_total":
			cs.Commits = int64(v)
		case "notekeeper_store_commit_writes_total":
			cs.Writes = int64(v)
		case "notekeeper_store_commit_seconds_total":
			cs.Busy = time.Duration(v * float64(time.Second))
		}
	}
	return cs, sc.Err()
}

// countStored opens the daemon's store (after it stopped) and counts the
// notifications.
func countStored(path string) (int, error) {
	db := store.NewDB(path)
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		return 0, err
	}
	defer db.Close()
	c, err := db.Counts()
	return c.Notifications, err
}
