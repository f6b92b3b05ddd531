package e2e

// The soak's fault schedule: a seeded random source shared by the
// stand-ins, and the count of every fault injected, by kind.

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// soakDice is a seeded random source safe for concurrent use. The stand-ins
// draw their per-request faults from it; which request gets which draw
// depends on the interleaving, so a seed reproduces the schedule's plan (the
// meetings, the kills, the windows) exactly and the per-request faults in
// kind and rate.
type soakDice struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newSoakDice(seed, stream uint64) *soakDice {
	return &soakDice{r: rand.New(rand.NewPCG(seed, stream))}
}

// chance reports true with probability p.
func (d *soakDice) chance(p float64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Float64() < p
}

// intn is a uniform int in [0, n).
func (d *soakDice) intn(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.IntN(n)
}

// soakFaults counts injected faults by kind and says whether faults are on.
type soakFaults struct {
	calm atomic.Bool // set once the fault phase ends: stand-ins behave
	mu   sync.Mutex
	n    map[string]int
	// hangs caps the timeouts (each holds a worker up to the client's 30 s
	// timeout), per stand-in.
	hangs map[string]int
	stop  chan struct{} // closed by release: hung requests return
	once  sync.Once
}

// release ends every hang, now and later.
func (f *soakFaults) release() { f.once.Do(func() { close(f.stop) }) }

func newSoakFaults() *soakFaults {
	return &soakFaults{n: map[string]int{}, hangs: map[string]int{}, stop: make(chan struct{})}
}

func (f *soakFaults) add(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n[kind]++
}

// counts returns a copy of the counts.
func (f *soakFaults) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.n))
	for k, v := range f.n {
		out[k] = v
	}
	return out
}

// total is the number of faults injected.
func (f *soakFaults) total() int {
	n := 0
	for _, v := range f.counts() {
		n += v
	}
	return n
}

// maxHangs is how many timeouts one stand-in injects at most per run.
const maxHangs = 3

// hang holds a request until the client gives up (its timeout is 30 s),
// 40 s pass or the soak ends, when the stand-in still may: it reports
// whether it did.
func (f *soakFaults) hang(who string, r *http.Request) bool {
	f.mu.Lock()
	if f.hangs[who] >= maxHangs {
		f.mu.Unlock()
		return false
	}
	f.hangs[who]++
	f.n[who+".timeout"]++
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 40*time.Second)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-f.stop:
	}
	return true
}

// serverError answers one of 500, 502, 503 and counts it as who.5xx.
func (f *soakFaults) serverError(who string, d *soakDice, w http.ResponseWriter) {
	f.add(who + ".5xx")
	http.Error(w, "injected failure", []int{500, 502, 503}[d.intn(3)])
}

// tooMany answers 429 with Retry-After: 1 and counts it as who.429.
func (f *soakFaults) tooMany(who string, w http.ResponseWriter) {
	f.add(who + ".429")
	w.Header().Set("Retry-After", strconv.Itoa(1))
	http.Error(w, "slow down", http.StatusTooManyRequests)
}
