// Command search measures the meeting search index (appliance/search) on a
// synthetic archive: -n meetings, each with a transcript of about
// -transcript bytes (Zipf-distributed words from a -vocab word vocabulary,
// several speakers), a summary, action items and participants.
//
// It reports, each beside its goal (issue 16):
//
//	index time       Open on an empty index: the start-up rebuild path
//	index size       bytes under {data_dir}/index, against the text indexed
//	query p50/p99    Search with 20 hits and their snippets, over -queries
//	                 queries of one or two words of every frequency
//	update           Update of one meeting after its transcript changed
//	peak RSS         of this process while indexing
//	RSS, held open   of a fresh process (this program, not the daemon) with
//	                 the index open, after one query
//	idle RSS         the same after -idle of rest, the index having closed
//	                 its files (Index.IdleClose = idle/2), as an idle daemon
//
// The archive is kept in -dir between runs when given (only the first run
// writes it). Run it niced on a shared machine:
//
//	nice -n 10 go run ./bench/search -n 10000 -dir /var/tmp/nk-search
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/bench/internal/measure"
)

func main() {
	n := flag.Int("n", 10_000, "meetings in the archive")
	transcript := flag.Int("transcript", 30<<10, "bytes of transcript per meeting")
	vocab := flag.Int("vocab", 40_000, "distinct words")
	queries := flag.Int("queries", 400, "queries timed")
	dir := flag.String("dir", "", "data dir kept between runs (default: a temporary directory, removed)")
	idle := flag.Duration("idle", 5*time.Second, "rest before the idle RSS is read")
	child := flag.String("idle-child", "", "internal: open the index of this data dir and report idle RSS")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the queries to this file")
	reuse := flag.Bool("reuse", false, "keep an index already in -dir (index time is then not measured)")
	flag.Parse()
	profile, reuseIndex = *cpuprofile, *reuse
	var err error
	if *child != "" {
		err = idleChild(*child, *idle)
	} else {
		err = run(*n, *transcript, *vocab, *queries, *dir, *idle)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

// profile is the -cpuprofile file; reuseIndex is -reuse.
var (
	profile    string
	reuseIndex bool
)

// words is a deterministic vocabulary of pronounceable pseudo-words.
func words(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	on := []string{"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "st", "tr", "pl", "gr", "ch", "sh"}
	vowel := []string{"a", "e", "i", "o", "u", "ai", "ea", "ou", "io"}
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(on[r.IntN(len(on))])
			b.WriteString(vowel[r.IntN(len(vowel))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// generator writes synthetic meetings.
type generator struct {
	vocab []string
	zipf  *rand.Zipf
	r     *rand.Rand
}

func newGenerator(vocab []string, seed uint64) *generator {
	r := rand.New(rand.NewPCG(seed, 7))
	return &generator{vocab: vocab, r: r, zipf: rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))}
}

func (g *generator) sentence(words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.vocab[g.zipf.Uint64()])
	}
	b.WriteByte('.')
	return b.String()
}

var people = []string{"Sarah Kim", "Jo Park", "Li Wu", "Dana Chen", "Amir Haddad", "Noor Ali", "Kai Meyer", "Eva Rossi", "Tom Berg", "Ines Costa"}

// write lays out meeting i under dataDir/media and returns its text bytes.
func (g *generator) write(dataDir string, i, transcriptBytes int) (int64, error) {
	id := fmt.Sprintf("ntBench%06d", i)
	dir := filepath.Join(dataDir, "media", id)
	speakers := []string{people[g.r.IntN(len(people))], people[g.r.IntN(len(people))], people[g.r.IntN(len(people))]}
	var t strings.Builder
	sec := 0
	for t.Len() < transcriptBytes {
		sp := speakers[g.r.IntN(len(speakers))]
		fmt.Fprintf(&t, "[%02d:%02d:%02d] %s: %s\n", sec/3600, sec/60%60, sec%60, sp, g.sentence(8+g.r.IntN(20)))
		sec += 3 + g.r.IntN(20)
	}
	summary := g.sentence(60)
	actions := []string{g.sentence(8), g.sentence(10), g.sentence(6)}
	title := strings.ToUpper(g.vocab[g.r.IntN(2000)][:1]) + g.vocab[g.r.IntN(2000)][1:] + " " + g.vocab[g.r.IntN(len(g.vocab))] + " call"
	man := &archive.Manifest{NotetakerID: id, Title: title, StartsAt: archive.Stamp{Time: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)},
		Files: map[string]archive.FileEntry{}}
	for _, p := range speakers {
		man.Participants = append(man.Participants, archive.Participant{Name: p, Email: strings.ToLower(strings.ReplaceAll(p, " ", ".")) + "@example.com"})
	}
	files := map[string]string{
		"transcript.txt":    t.String(),
		"summary.json":      fmt.Sprintf(`{"summary":%q}`, summary),
		"action_items.json": fmt.Sprintf(`[%q,%q,%q]`, actions[0], actions[1], actions[2]),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return 0, err
		}
		if name != "transcript.txt" {
			man.Files[name] = archive.FileEntry{Bytes: int64(len(content)), SHA256: "0", ContentType: "application/json", ArchivedAt: time.Now()}
		}
	}
	if err := archive.WriteManifest(dir, man); err != nil {
		return 0, err
	}
	return int64(t.Len() + len(summary) + len(actions[0]+actions[1]+actions[2]) + len(title)), nil
}

func run(n, transcriptBytes, vocabSize, queries int, dir string, idle time.Duration) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "notekeeper-bench-search-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	vocab := words(vocabSize)
	textBytes, err := archiveOf(dir, n, transcriptBytes, vocab)
	if err != nil {
		return err
	}
	fmt.Printf("archive: %d meetings, %s of text indexed (transcripts ~%s each), %d-word vocabulary, GOMAXPROCS %d\n",
		n, measure.FormatSize(textBytes), measure.FormatSize(int64(transcriptBytes)), vocabSize, runtime.GOMAXPROCS(0))

	// Index time: the start-up path over an empty index folder.
	if !reuseIndex {
		os.RemoveAll(filepath.Join(dir, search.Dir))
	}
	ix := search.New(dir)
	start := time.Now()
	if err := ix.Open(); err != nil {
		return err
	}
	ix.Wait()
	indexTime := time.Since(start)
	peak := measure.PeakRSS()
	count, err := ix.DocCount()
	if err != nil {
		return err
	}
	if int(count) != n {
		return fmt.Errorf("index holds %d meetings, want %d", count, n)
	}
	size, err := dirSize(filepath.Join(dir, search.Dir))
	if err != nil {
		return err
	}

	// Queries: single words across the frequency range, and word pairs.
	r := rand.New(rand.NewPCG(9, 9))
	var lat []time.Duration
	var hits uint64
	ctx := context.Background()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
	}
	cpu0 := cpuTime()
	for i := range queries {
		var q string
		switch i % 4 {
		case 0: // frequent
			q = vocab[2+r.IntN(50)]
		case 1: // middling
			q = vocab[200+r.IntN(2000)]
		case 2: // rare
			q = vocab[5000+r.IntN(len(vocab)-5000)]
		default: // two words
			q = vocab[50+r.IntN(500)] + " " + vocab[500+r.IntN(5000)]
		}
		t0 := time.Now()
		res, err := ix.Search(ctx, q, 20, 0)
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
		hits += res.Total
	}
	queryCPU := (cpuTime() - cpu0) / time.Duration(queries)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	slices.Sort(lat)

	// Incremental update of one meeting.
	var upd []time.Duration
	cpu0 = cpuTime()
	for i := range 20 {
		id := fmt.Sprintf("ntBench%06d", r.IntN(n))
		p := filepath.Join(dir, "media", id, "transcript.txt")
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "[09:59:%02d] Sarah Kim: one more line about zeppelins.\n", i)
		f.Close()
		t0 := time.Now()
		if err := ix.Update(id); err != nil {
			return err
		}
		upd = append(upd, time.Since(t0))
	}
	updCPU := (cpuTime() - cpu0) / 20
	slices.Sort(upd)
	if err := ix.Close(); err != nil {
		return err
	}

	heldRSS, idleRSS, err := idleRSSOf(dir, idle)
	if err != nil {
		return err
	}

	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
	}
	ratio := float64(size) / float64(textBytes)
	fmt.Println()
	fmt.Printf("%-22s %-28s %s\n", "measure", "result", "goal")
	if reuseIndex {
		fmt.Printf("%-22s %-28s %s\n", "index time", "not measured (-reuse)", "—")
	} else {
		fmt.Printf("%-22s %-28s %s\n", "index time", indexTime.Round(time.Second).String()+fmt.Sprintf(" (%.0f meetings/s)", float64(n)/indexTime.Seconds()), "—")
	}
	fmt.Printf("%-22s %-28s %s\n", "index size", fmt.Sprintf("%s (%.2f× the text)", measure.FormatSize(size), ratio), "≤ 0.5× "+okIf(ratio <= 0.5))
	fmt.Printf("%-22s %-28s %s\n", "query p50", ms(lat[len(lat)/2]), "—")
	fmt.Printf("%-22s %-28s %s\n", "query p99", ms(lat[len(lat)*99/100]), "≤ 50 ms "+okIf(lat[len(lat)*99/100] <= 50*time.Millisecond))
	fmt.Printf("%-22s %-28s %s\n", "query CPU time", ms(queryCPU)+" per query", "—")
	fmt.Printf("%-22s %-28s %s\n", "update CPU time", ms(updCPU)+" per update", "—")
	fmt.Printf("%-22s %-28s %s\n", "update one meeting", ms(upd[len(upd)/2])+" p50, "+ms(upd[len(upd)-1])+" max", "≤ 100 ms "+okIf(upd[len(upd)-1] <= 100*time.Millisecond))
	fmt.Printf("%-22s %-28s %s\n", "peak RSS (indexing)", measure.FormatSize(peak), "—")
	fmt.Printf("%-22s %-28s %s\n", "RSS, index held open", measure.FormatSize(heldRSS), "—")
	fmt.Printf("%-22s %-28s %s\n", "idle RSS (IdleClose)", measure.FormatSize(idleRSS), "≤ 30 MiB (whole daemon) "+okIf(idleRSS <= 30<<20))
	fmt.Printf("\n%d queries, %.0f matching meetings on average\n", len(lat), float64(hits)/float64(len(lat)))
	return nil
}

func okIf(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(NOT met)"
}

// archiveOf writes the synthetic archive once; a complete one in dir is
// reused. It returns the bytes of text the meetings hold.
func archiveOf(dir string, n, transcriptBytes int, vocab []string) (int64, error) {
	marker := filepath.Join(dir, fmt.Sprintf(".bench-archive-%d-%d-%d", n, transcriptBytes, len(vocab)))
	if b, err := os.ReadFile(marker); err == nil {
		return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	os.RemoveAll(filepath.Join(dir, "media"))
	g := newGenerator(vocab, 42)
	var total int64
	start := time.Now()
	for i := range n {
		b, err := g.write(dir, i, transcriptBytes)
		if err != nil {
			return 0, err
		}
		total += b
		if (i+1)%1000 == 0 {
			fmt.Fprintf(os.Stderr, "wrote %d meetings (%s)\n", i+1, time.Since(start).Round(time.Second))
		}
	}
	return total, os.WriteFile(marker, []byte(strconv.FormatInt(total, 10)), 0o600)
}

// dirSize adds up the sizes of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// idleRSSOf runs this program as -idle-child over dir and reads the RSS it
// reports: with the index held open after a query, and after IdleClose let
// it go.
func idleRSSOf(dir string, idle time.Duration) (int64, int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(exe, "-idle-child", dir, "-idle", idle.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("idle child: %w", err)
	}
	var held, closed int64
	if _, err := fmt.Sscan(string(out), &held, &closed); err != nil {
		return 0, 0, fmt.Errorf("idle child said %q: %w", out, err)
	}
	return held, closed, nil
}

// idleChild opens the index as the daemon does, runs one query, rests and
// prints its VmRSS in bytes.
func idleChild(dir string, idle time.Duration) error {
	debug.SetGCPercent(100)
	memNote("child start")
	ix := search.New(dir)
	ix.IdleClose = idle / 2
	if err := ix.Open(); err != nil {
		return err
	}
	memNote("opened")
	ix.Wait()
	memNote("synchronised")
	if _, err := ix.Search(context.Background(), "zeppelins", 20, 0); err != nil {
		return err
	}
	memNote("one query")
	runtime.GC()
	debug.FreeOSMemory()
	held, _, err := measure.Memory(os.Getpid())
	if err != nil {
		return err
	}
	time.Sleep(idle)
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(time.Second)
	memNote("idle (index closed after IdleClose)")
	rss, _, err := measure.Memory(os.Getpid())
	if err != nil {
		return err
	}
	fmt.Println(held, rss)
	return ix.Close()
}

// memNote prints this process's resident memory, anonymous and file-backed,
// to stderr.
func memNote(what string) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	var parts []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"VmRSS:", "RssAnon:", "RssFile:"} {
			if strings.HasPrefix(l, k) {
				parts = append(parts, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	var zap int64
	if sm, err := os.ReadFile("/proc/self/smaps"); err == nil {
		inZap := false
		for _, l := range strings.Split(string(sm), "\n") {
			f := strings.Fields(l)
			if len(f) >= 5 && strings.Contains(f[0], "-") {
				inZap = strings.HasSuffix(f[len(f)-1], ".zap") || strings.HasSuffix(f[len(f)-1], ".bolt")
			} else if inZap && len(f) >= 2 && f[0] == "Rss:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				zap += kb
			}
		}
	}
	parts = append(parts, fmt.Sprintf("index files %d kB", zap))
	fmt.Fprintf(os.Stderr, "memory %s: %s\n", what, strings.Join(parts, ", "))
}

// cpuTime is this process's user and system CPU time so far: unlike wall
// time it does not grow when other processes hold the CPUs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
