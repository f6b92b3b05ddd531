// Package sdnotify speaks systemd's notify protocol (sd_notify): readiness,
// status, reloading and stopping, and the watchdog's keep-alive. It is
// written by hand: one datagram to a unix socket named by $NOTIFY_SOCKET,
// where a library would add a dependency for a dozen lines.
package sdnotify

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"time"
)

// Notify sends state (e.g. "READY=1") to systemd. Without $NOTIFY_SOCKET
// (not started by systemd with Type=notify) it does nothing.
func Notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' { // abstract socket
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}

// WatchdogInterval is how often to send WATCHDOG=1: half of $WATCHDOG_USEC
// when it is set for this process, else 0 (no watchdog).
func WatchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// Watchdog sends WATCHDOG=1 every interval while alive answers, until ctx
// ends. When alive fails, it stays silent: systemd then restarts the
// service, which is the point.
func Watchdog(ctx context.Context, interval time.Duration, alive func(context.Context) error) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, interval)
			err := alive(pctx)
			cancel()
			if err == nil || errors.Is(err, context.Canceled) {
				Notify("WATCHDOG=1")
			}
		}
	}
}
