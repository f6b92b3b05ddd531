package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// Errors a Fetch can end with, for errors.Is. Any other error (network,
// 5xx, a cut connection, ctx) is worth retrying as it is: the partial file
// is kept and the next Fetch resumes it.
var (
	// ErrExpired: storage refused the signed URL with 400, 401, 403, 404 or
	// 410, as it does once a link has expired. The partial file is kept:
	// ask Nylas for fresh links and Fetch again, and it resumes.
	ErrExpired = errors.New("media link refused or expired")
	// ErrTooLarge: the file is larger than MaxBytes, whether announced or
	// found while streaming. Nothing is kept.
	ErrTooLarge = errors.New("file over max_file_bytes")
	// ErrSizeMismatch: the file's size differs from Request.Expect, as
	// storage announces it or as received. Nothing is kept.
	ErrSizeMismatch = errors.New("size differs from the announced size")
	// ErrNotAllowed: the URL's scheme, host or address (or a redirect's) is
	// refused by policy (see Fetcher). No request reaches the refused
	// destination; a partial already there is kept.
	ErrNotAllowed = errors.New("media URL not allowed")
	// ErrBusy: another Fetch of this Fetcher is writing the same partial
	// file. Nothing is touched; try again later.
	ErrBusy = errors.New("file already being fetched")
	// ErrNoSpace: the file would take the disk below Request.Reserve (as
	// announced, or as found while streaming), or the disk is full
	// (ENOSPC). The partial is deleted, so the space is given back; try
	// again once there is room.
	ErrNoSpace = errors.New("not enough disk space above the reserve")
)

// defaultReserveEvery is how often, in bytes streamed, Reserve.Free is asked again.
const defaultReserveEvery = 8 << 20

const (
	copyBufferSize      = 256 << 10
	defaultStallTimeout = 2 * time.Minute
	maxRedirects        = 5
)

// errStalled is the cause given to a download's ctx when no byte arrived
// for StallTimeout.
var errStalled = errors.New("download stalled")

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// Fetcher downloads media files from pre-signed storage URLs. Its zero
// value is usable (no size bound, https to public addresses only); set the
// fields before the first Fetch and do not change them afterwards. It is
// safe for concurrent use.
//
// Policy, applied to the URL and again to every redirect:
//   - Only https, and http too when AllowHTTP. A URL with user info
//     (https://user:pass@…) is refused.
//   - When Hosts is set, only those host names (exact, case-insensitive, port
//     ignored).
//   - Unless AllowHTTP, only public addresses. An IP literal in the URL is
//     checked at once; a host name is checked at dial time, on the address
//     actually connected to (net.Dialer.Control), so DNS that answers with a
//     loopback, private, link-local, unspecified, CGNAT or otherwise
//     non-public address (rebinding included) is refused before a packet is
//     sent (through a caller's own dialer, see HTTP: before a byte of the
//     request is sent). No proxy is used: it would hide the address.
//
// A refusal is ErrNotAllowed.
//
// It never sends credentials: each request is new, with no Authorization
// header and no cookies (a Jar on HTTP is dropped), and redirects carry none
// either. Signed URLs are credentials too: errors name the host and path,
// never the query.
type Fetcher struct {
	// HTTP is the client to send requests with; nil means one with connect
	// (15 s), TLS handshake (15 s) and response header (60 s) timeouts but
	// no overall timeout, since recordings are large. A given client is
	// copied, not modified: its Jar and CheckRedirect are replaced; its
	// *http.Transport (nil meaning http.DefaultTransport) is cloned with
	// compression and proxies off. A Transport without a dialer of its own
	// (or DefaultTransport) gets ours, which checks addresses at dial time;
	// a caller's DialContext/DialTLSContext is kept and the address is
	// checked on the connection it returns, before any byte is sent. A
	// Transport of another type cannot be checked: with AllowHTTP false,
	// every Fetch through it fails with ErrNotAllowed.
	HTTP      *http.Client
	AllowHTTP bool     // [nylas] allow_http_media: also http:// and non-public addresses (tests, the simulator)
	Hosts     []string // [nylas] media_hosts: when set, the only host names fetched from
	MaxBytes  int64    // [archive] max_file_bytes; 0 = no bound
	// StallTimeout abandons a download when no byte has arrived for this
	// long (the partial is kept, to resume); default 2 minutes.
	StallTimeout time.Duration
	Logger       *slog.Logger // nil = silent

	once      sync.Once
	client    *http.Client
	clientErr error
	inflight  sync.Map // partial path → struct{}: one writer per partial file
}

// Request is one file to fetch.
type Request struct {
	URL string
	// Dir is the meeting's folder, {data_dir}/media/{notetaker_id}; it is
	// created 0700, parents too, when missing.
	Dir string
	// Name is the final file name, e.g. "recording.mp4": one visible path
	// element. The download goes to Dir/.{Name}.partial.
	Name string
	// Expect is the size Nylas announced, 0 when unknown. A download of
	// another size fails with ErrSizeMismatch.
	Expect int64
	// NameFor, when set, picks the final name from the response's
	// Content-Type (a thumbnail announced as png that arrives as image/jpeg
	// becomes thumbnail.jpg); by default the final name is Name. It must
	// return a visible file name, like Name.
	NameFor func(contentType string) string
	// Reserve, when set, is the free space the download must leave on
	// Dir's file system (see Reserve).
	Reserve *Reserve
}

// Result describes a completed file.
type Result struct {
	Name        string // final file name, in Request.Dir
	Bytes       int64
	SHA256      string // lowercase hex, of the whole file
	ContentType string // as storage sent it
	Resumed     bool   // the download continued a partial left by an earlier Fetch
}

// Fetch downloads r.URL to r.Dir under its final name and returns its size
// and sha256. It returns only once the file is complete, checked, fsynced,
// renamed into place and the rename fsynced: a file never stands under its
// final name unless whole. A file already there is replaced atomically (the
// caller decides from the manifest whether to fetch at all).
//
// The body is streamed through a 256 KiB buffer into Dir/.{Name}.partial
// (0600) while being hashed and counted, so memory does not grow with the
// file. MaxBytes and Expect are enforced while streaming, not only from
// Content-Length; a body longer than announced is an error.
//
// Resuming: when the partial holds n > 0 bytes, Fetch hashes them and asks
// for "Range: bytes=n-". A 206 whose Content-Range starts at n is appended
// (Result.Resumed); a 200 (Range ignored), a 416 or a 206 for another range
// makes it truncate the partial and start from zero within the same call.
//
// On failure the partial is kept when a later Fetch can resume it: a cut
// connection or short body (io.ErrUnexpectedEOF), a stall, ctx ending (the
// call returns promptly with ctx's error wrapped), ErrExpired, other
// statuses, local I/O errors. It is removed after ErrTooLarge,
// ErrSizeMismatch and ErrNoSpace (the disk's free space is given back), and
// when empty. Errors read "fetch {name}: …".
//
// Two Fetches for the same partial file at once through one Fetcher: the
// second fails with ErrBusy. Different files may be fetched concurrently.
func (f *Fetcher) Fetch(ctx context.Context, r Request) (*Result, error) {
	res, err := f.fetch(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	return res, nil
}

func (f *Fetcher) fetch(ctx context.Context, r Request) (*Result, error) {
	if !safeFileName(r.Name) {
		return nil, fmt.Errorf("unsafe file name %q", r.Name)
	}
	u, err := f.checkURL(r.URL)
	if err != nil {
		return nil, err
	}
	client, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return nil, err
	}
	partial := filepath.Join(r.Dir, "."+r.Name+".partial")
	if _, busy := f.inflight.LoadOrStore(partial, struct{}{}); busy {
		return nil, ErrBusy
	}
	defer f.inflight.Delete(partial)

	file, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	res, keep, err := f.transfer(ctx, client, u, r, file)
	if cerr := file.Close(); err == nil && cerr != nil {
		err, keep = cerr, true
	}
	if noSpace(err) { // give the space back: the reserve is for the store
		keep = false
		if !errors.Is(err, ErrNoSpace) {
			err = fmt.Errorf("%w: %w", ErrNoSpace, err)
		}
	}
	if err != nil {
		if fi, serr := os.Stat(partial); !keep || (serr == nil && fi.Size() == 0) {
			os.Remove(partial) // nothing worth resuming
		}
		return nil, err
	}
	if err := os.Rename(partial, filepath.Join(r.Dir, res.Name)); err != nil {
		return nil, err
	}
	if err := datadir.SyncDir(r.Dir); err != nil {
		return nil, err
	}
	return res, nil
}

// transfer fills file from u and returns the result; on error, keep says
// whether the partial is worth keeping.
func (f *Fetcher) transfer(ctx context.Context, client *http.Client, u *url.URL, r Request, file *os.File) (res *Result, keep bool, err error) {
	if err := file.Chmod(0o600); err != nil { // a partial left by hand may be wider
		return nil, true, err
	}
	have, h, err := resumeState(file, r.Expect, f.MaxBytes)
	if err != nil {
		return nil, true, err
	}

	// The download's ctx is cancelled with errStalled when no byte arrives
	// for StallTimeout: connecting and waiting for headers count too.
	stall := f.StallTimeout
	if stall <= 0 {
		stall = defaultStallTimeout
	}
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if errors.Is(context.Cause(dctx), errStalled) {
			return fmt.Errorf("%w: nothing received for %v", errStalled, stall)
		}
		return err
	}

	var resp *http.Response
	total := int64(-1) // the whole file's size as storage announces it
	resumed := false
	for {
		resp, err = f.get(dctx, client, u, have)
		if err != nil {
			return nil, true, interrupted(err)
		}
		restart := false
		switch code := resp.StatusCode; {
		case code == http.StatusPartialContent && have > 0:
			cr, ok := parseContentRange(resp.Header.Get("Content-Range"))
			if !ok || cr.start != have || (resp.ContentLength >= 0 && resp.ContentLength != cr.end-cr.start+1) {
				restart = true // not the range asked for
				break
			}
			resumed, total = true, cr.size
			if total < 0 && resp.ContentLength >= 0 { // "bytes n-m/*"
				total = have + resp.ContentLength
			}
		case code == http.StatusOK:
			total = resp.ContentLength
			if have > 0 { // Range ignored
				f.log().Info("storage ignored Range; downloading from the start", slog.String("file", r.Name), slog.Int64("had", have))
				if have, h, err = 0, sha256.New(), emptyFile(file); err != nil {
					resp.Body.Close()
					return nil, true, err
				}
			}
		case code == http.StatusRequestedRangeNotSatisfiable && have > 0:
			restart = true // the partial does not fit the file
		case slices.Contains([]int{400, 401, 403, 404, 410}, code):
			resp.Body.Close()
			return nil, true, fmt.Errorf("%w: storage answered %d", ErrExpired, code)
		default:
			resp.Body.Close()
			return nil, true, fmt.Errorf("storage answered %d", code)
		}
		if !restart {
			break
		}
		resp.Body.Close()
		f.log().Info("cannot resume; downloading from the start", slog.String("file", r.Name),
			slog.Int("status", resp.StatusCode), slog.String("content_range", resp.Header.Get("Content-Range")))
		if have, h, err = 0, sha256.New(), emptyFile(file); err != nil {
			return nil, true, err
		}
		// have is 0 now: the next answer is a 200 or an error, no loop.
	}
	defer resp.Body.Close()

	if total >= 0 {
		if f.MaxBytes > 0 && total > f.MaxBytes {
			return nil, false, fmt.Errorf("%w: %d bytes announced, bound %d", ErrTooLarge, total, f.MaxBytes)
		}
		if r.Expect > 0 && total != r.Expect {
			return nil, false, fmt.Errorf("%w: storage announces %d bytes, Nylas %d", ErrSizeMismatch, total, r.Expect)
		}
	}
	left := total - have // -1 or less: unknown
	if total < 0 && r.Expect > 0 {
		left = r.Expect - have
	}
	if r.Reserve != nil && left >= 0 {
		if err := r.Reserve.room(left); err != nil {
			return nil, false, err
		}
	}
	if _, err := file.Seek(have, io.SeekStart); err != nil {
		return nil, true, err
	}

	// Read at most one byte past the tightest bound, to detect excess
	// without streaming all of it.
	limit := int64(-1)
	for _, b := range []int64{f.MaxBytes, r.Expect, total} {
		if b > 0 && (limit < 0 || b < limit) {
			limit = b
		}
	}
	body := io.Reader(&progressReader{r: resp.Body, watchdog: watchdog, stall: stall})
	if limit >= 0 {
		body = io.LimitReader(body, limit-have+1)
	}
	dst := io.Writer(file)
	if r.Reserve != nil {
		dst = &reserveWriter{w: file, rv: r.Reserve, left: max(-1, left)}
	}
	buf := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(dst, h), body, *buf)
	copyBuffers.Put(buf)
	size := have + n
	switch {
	case f.MaxBytes > 0 && size > f.MaxBytes:
		return nil, false, fmt.Errorf("%w: over %d bytes", ErrTooLarge, f.MaxBytes)
	case r.Expect > 0 && size > r.Expect:
		return nil, false, fmt.Errorf("%w: over the %d bytes Nylas announced", ErrSizeMismatch, r.Expect)
	case total >= 0 && size > total:
		return nil, false, fmt.Errorf("body longer than the %d bytes announced", total)
	case noSpace(err):
		return nil, false, fmt.Errorf("stopped after %d bytes: %w", size, err)
	case err != nil:
		return nil, true, fmt.Errorf("interrupted after %d bytes: %w", size, interrupted(err))
	case total >= 0 && size < total:
		return nil, true, fmt.Errorf("interrupted after %d of %d bytes: %w", size, total, io.ErrUnexpectedEOF)
	case r.Expect > 0 && size != r.Expect:
		return nil, false, fmt.Errorf("%w: got %d bytes, Nylas announced %d", ErrSizeMismatch, size, r.Expect)
	}

	ct := resp.Header.Get("Content-Type")
	name := r.Name
	if r.NameFor != nil {
		if name = r.NameFor(ct); !safeFileName(name) {
			return nil, false, fmt.Errorf("unsafe file name %q for content type %q", name, ct)
		}
	}
	if err := file.Sync(); err != nil {
		return nil, true, err
	}
	if resumed {
		f.log().Debug("download resumed", slog.String("file", name), slog.Int64("from", have))
	}
	return &Result{Name: name, Bytes: size, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: ct, Resumed: resumed}, true, nil
}

// progressReader pushes the stall watchdog back whenever bytes arrive.
type progressReader struct {
	r        io.Reader
	watchdog *time.Timer
	stall    time.Duration
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.watchdog.Reset(p.stall)
	}
	return n, err
}

// get sends a new GET with no credentials, from byte `from` when it is not 0.
func (f *Fetcher) get(ctx context.Context, client *http.Client, u *url.URL, from int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		// A url.Error repeats the signed URL, whose query is a credential:
		// name the host and path only.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("get %s%s: %w", u.Host, u.EscapedPath(), ue.Err)
		}
		return nil, err
	}
	return resp, nil
}

var discard = slog.New(slog.DiscardHandler)

func (f *Fetcher) log() *slog.Logger {
	if f.Logger == nil {
		return discard
	}
	return f.Logger
}
