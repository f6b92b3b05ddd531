package admin

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// Login throttling. bcrypt is slow on purpose, so unauthenticated requests
// must not decide how much of it runs: the webhook shares the CPU and Nylas
// gives up after 10 s (issue 18 #3). The throttle bounds the work three ways:
//
//   - at most slots comparisons run at once (half the CPUs, at least one, so
//     the webhook always has a CPU) and at most queue requests wait for one;
//     a request beyond that is answered 503 at once, with Retry-After;
//   - a client address (the TCP peer: no forwarded header is trusted) that
//     failed freeFails times in a row must wait, doubling from failDelay up
//     to maxFailDelay per further failure, and is answered 429 meanwhile,
//     without a comparison; a success clears its record, and a record
//     untouched for failForget is forgotten;
//   - a request whose client has gone (its ctx is done) costs no comparison,
//     whether it is waiting for a slot or about to take one.
//
// An operator behind the same address as an attacker can be locked out for
// up to maxFailDelay; the cached successful login (see authenticator) keeps
// an already open session working.
const (
	freeFails    = 5
	failDelay    = time.Second
	maxFailDelay = 5 * time.Minute
	failForget   = 15 * time.Minute
	maxClients   = 4096 // failure records kept; past it, the oldest go
)

// errBusy and errBackoff are the throttle's refusals; throttleError carries
// when to come back.
var (
	errBusy    = errors.New("too many logins at once")
	errBackoff = errors.New("too many failed logins from this address")
)

type throttleError struct {
	err   error
	after time.Duration
}

func (e *throttleError) Error() string { return e.err.Error() }
func (e *throttleError) Unwrap() error { return e.err }

// throttle guards the bcrypt comparisons; see the comment above.
type throttle struct {
	slots chan struct{} // a token per comparison running
	queue chan struct{} // a token per request waiting for a slot
	now   func() time.Time

	mu      sync.Mutex
	clients map[netip.Addr]*failures
}

// failures is one client address's record.
type failures struct {
	count int
	until time.Time // no comparison for this client before then
	last  time.Time
}

func newThrottle(now func() time.Time) *throttle {
	slots := max(1, runtime.GOMAXPROCS(0)/2)
	return &throttle{slots: make(chan struct{}, slots), queue: make(chan struct{}, 2*slots), now: now,
		clients: map[netip.Addr]*failures{}}
}

// clientAddr is the address of a request's TCP peer (invalid when unknown).
func clientAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap().WithZone("")
}

// acquire admits one comparison for client: it returns a release function,
// a *throttleError (errBackoff, errBusy), or ctx's error once the client has
// gone.
func (th *throttle) acquire(ctx context.Context, client netip.Addr) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if wait := th.backoff(client); wait > 0 {
		return nil, &throttleError{errBackoff, wait}
	}
	release := func() { <-th.slots }
	select {
	case th.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case th.queue <- struct{}{}:
	default:
		return nil, &throttleError{errBusy, time.Second}
	}
	defer func() { <-th.queue }()
	select {
	case th.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := ctx.Err(); err != nil { // gone while it waited
		release()
		return nil, err
	}
	return release, nil
}

// backoff is how long client must still wait before its next comparison.
func (th *throttle) backoff(client netip.Addr) time.Duration {
	th.mu.Lock()
	defer th.mu.Unlock()
	f, ok := th.clients[client]
	if !ok {
		return 0
	}
	return max(0, f.until.Sub(th.now()))
}

// result records the outcome of a comparison for client.
func (th *throttle) result(client netip.Addr, ok bool) {
	th.mu.Lock()
	defer th.mu.Unlock()
	now := th.now()
	if ok {
		delete(th.clients, client)
		return
	}
	f := th.clients[client]
	if f == nil || now.Sub(f.last) > failForget {
		if len(th.clients) >= maxClients {
			th.forget(now)
		}
		f = &failures{}
		th.clients[client] = f
	}
	f.count++
	f.last = now
	if f.count >= freeFails {
		d := failDelay
		for i := freeFails; i < f.count && d < maxFailDelay; i++ {
			d *= 2
		}
		f.until = now.Add(min(d, maxFailDelay))
	}
}

// forget drops stale records and, if the map is still full, the older half.
func (th *throttle) forget(now time.Time) {
	var cutoff time.Time
	for a, f := range th.clients {
		if now.Sub(f.last) > failForget {
			delete(th.clients, a)
		} else if cutoff.IsZero() || f.last.Before(cutoff) {
			cutoff = f.last
		}
	}
	if len(th.clients) < maxClients {
		return
	}
	mid := cutoff.Add(now.Sub(cutoff) / 2)
	for a, f := range th.clients {
		if f.last.Before(mid) {
			delete(th.clients, a)
		}
	}
	if len(th.clients) >= maxClients {
		clear(th.clients)
	}
}
