package archive

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// Reserve keeps free space for the rest of the appliance (the store must
// still be able to take notifications) while a file downloads: a file whose
// announced size would take the free space below Keep is refused before a
// byte is written, and while streaming Free is asked again every Every
// bytes and the download stops unless another Every bytes fit above Keep.
// Both end in ErrNoSpace, as does ENOSPC. Concurrent downloads each check on
// their own; each may take up to Every bytes between two checks.
type Reserve struct {
	Free  func() (uint64, error) // bytes free on Dir's file system
	Keep  int64                  // bytes that must stay free: [archive] min_free_bytes
	Every int64                  // re-check after this many bytes; default 8 MiB
}

// room fails with ErrNoSpace unless need more bytes fit above the reserve.
func (rv *Reserve) room(need int64) error {
	free, err := rv.Free()
	if err != nil {
		return fmt.Errorf("measure free space: %w", err)
	}
	if int64(free)-need < rv.Keep {
		return fmt.Errorf("%w: %d bytes free, %d more needed, %d reserved", ErrNoSpace, free, need, rv.Keep)
	}
	return nil
}

// reserveWriter asks the Reserve for room every Every bytes, before writing.
type reserveWriter struct {
	w      io.Writer
	rv     *Reserve
	left   int64 // bytes still to come, -1 when unknown
	credit int64 // bytes that may be written before the next check
}

func (rw *reserveWriter) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		if rw.credit <= 0 {
			every := cmp.Or(rw.rv.Every, defaultReserveEvery)
			need := every
			if rw.left >= 0 {
				need = min(need, rw.left)
			}
			if err := rw.rv.room(need); err != nil {
				return done, err
			}
			rw.credit = every
		}
		chunk := p[done:min(len(p), done+int(min(rw.credit, int64(len(p)))))]
		n, err := rw.w.Write(chunk)
		done += n
		rw.credit -= int64(n)
		if rw.left >= 0 {
			rw.left = max(0, rw.left-int64(n))
		}
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// noSpace reports whether err means the disk (or the reserve) is full.
func noSpace(err error) bool { return errors.Is(err, ErrNoSpace) || errors.Is(err, syscall.ENOSPC) }

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

// resumeState reads what an earlier Fetch left in file: its size and a
// hash of its bytes, read back through the hasher. A partial that cannot
// be a prefix of the file (as large as Expect, or over maxBytes) is
// emptied.
func resumeState(file *os.File, expect, maxBytes int64) (int64, hash.Hash, error) {
	h := sha256.New()
	st, err := file.Stat()
	if err != nil {
		return 0, nil, err
	}
	have := st.Size()
	if (expect > 0 && have >= expect) || (maxBytes > 0 && have > maxBytes) {
		return 0, h, emptyFile(file)
	}
	if have > 0 {
		buf := copyBuffers.Get().(*[]byte)
		_, err := io.CopyBuffer(h, io.NewSectionReader(file, 0, have), *buf)
		copyBuffers.Put(buf)
		if err != nil {
			return 0, nil, err
		}
	}
	return have, h, nil
}

// emptyFile empties the partial file.
func emptyFile(file *os.File) error {
	if err := file.Truncate(0); err != nil {
		return err
	}
	_, err := file.Seek(0, io.SeekStart)
	return err
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

// contentRange is a parsed "bytes start-end/size" (size -1 for "*").
type contentRange struct{ start, end, size int64 }

func parseContentRange(v string) (contentRange, bool) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return contentRange{}, false
	}
	span, size, ok := strings.Cut(rest, "/")
	if !ok {
		return contentRange{}, false
	}
	first, last, ok := strings.Cut(span, "-")
	if !ok {
		return contentRange{}, false
	}
	cr := contentRange{size: -1}
	var err1, err2, err3 error
	cr.start, err1 = strconv.ParseInt(first, 10, 64)
	cr.end, err2 = strconv.ParseInt(last, 10, 64)
	if size != "*" {
		cr.size, err3 = strconv.ParseInt(size, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || cr.start < 0 || cr.end < cr.start ||
		(cr.size >= 0 && cr.end >= cr.size) {
		return contentRange{}, false
	}
	// A range that stops short of the end cannot complete the file: with a
	// known size, require it to run to the end.
	if cr.size >= 0 && cr.end != cr.size-1 {
		return contentRange{}, false
	}
	return cr, true
}

// checkURL applies the scheme, host and (for IP literals) address policy.
func (f *Fetcher) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrNotAllowed)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: URL carries credentials", ErrNotAllowed)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && f.AllowHTTP) {
		return nil, fmt.Errorf("%w: scheme %q", ErrNotAllowed, u.Scheme)
	}
	host := u.Hostname()
	if len(f.Hosts) > 0 && !slices.ContainsFunc(f.Hosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		return nil, fmt.Errorf("%w: host %q is not in media_hosts", ErrNotAllowed, host)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !f.AllowHTTP && !publicAddr(ip) {
		return nil, fmt.Errorf("%w: address %s is not public", ErrNotAllowed, ip)
	}
	return u, nil
}

// httpClient builds, once, the client every Fetch uses (see Fetcher.HTTP).
func (f *Fetcher) httpClient() (*http.Client, error) {
	f.once.Do(func() { f.client, f.clientErr = f.buildClient() })
	return f.client, f.clientErr
}

func (f *Fetcher) buildClient() (*http.Client, error) {
	var c http.Client
	var t *http.Transport
	ownDial := true // the transport's dialer is ours to replace
	if f.HTTP == nil {
		t = &http.Transport{
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}
	} else {
		c = *f.HTTP
		switch rt := c.Transport.(type) {
		case nil:
			t = http.DefaultTransport.(*http.Transport).Clone() // its dialer is replaced below
		case *http.Transport:
			t = rt.Clone()
			//lint:ignore SA1019 honour the deprecated field
			ownDial = t.DialContext == nil && t.Dial == nil
		default:
			if !f.AllowHTTP {
				return nil, fmt.Errorf("%w: cannot check addresses through a %T", ErrNotAllowed, rt)
			}
		}
	}
	if t != nil {
		t.Proxy = nil               // a proxy would hide the address from the check
		t.DisableCompression = true // archive the bytes as served
		if ownDial {
			control := checkDialAddress
			if f.AllowHTTP {
				control = nil
			}
			//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
			t.Dial = nil
			t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, Control: control}).DialContext
		} else if !f.AllowHTTP {
			guardDialers(t)
		}
		c.Transport = t
	}
	c.Jar = nil
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		if _, err := f.checkURL(req.URL.String()); err != nil {
			return err
		}
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		return nil
	}
	return &c, nil
}

// guardDialers makes every connection through the caller's dialers pass
// the address check, after connecting and before any byte is sent.
func guardDialers(t *http.Transport) {
	//lint:ignore SA1019 honour the deprecated field
	if t.DialContext == nil && t.Dial != nil {
		//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
		dial := t.Dial
		t.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
	t.Dial = nil
	t.DialContext = checkedDial(t.DialContext)
	//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
	if t.DialTLSContext == nil && t.DialTLS != nil {
		//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
		dial := t.DialTLS
		t.DialTLSContext = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
	t.DialTLS = nil
	if t.DialTLSContext != nil {
		t.DialTLSContext = checkedDial(t.DialTLSContext)
	}
}

// checkDialAddress is a net.Dialer.Control: it runs for every address
// dialled, after DNS resolution, before the connection is attempted.
func checkDialAddress(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q", ErrNotAllowed, address)
	}
	if !publicAddr(ap.Addr()) {
		return fmt.Errorf("%w: address %s is not public", ErrNotAllowed, ap.Addr())
	}
	return nil
}

// checkedDial wraps a caller's dialer: the connection is closed, unused,
// unless its remote address is public.
func checkedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			ip = ta.AddrPort().Addr()
		}
		if !publicAddr(ip) {
			conn.Close()
			return nil, fmt.Errorf("%w: address %v is not public", ErrNotAllowed, conn.RemoteAddr())
		}
		return conn, nil
	}
}

// nonPublic lists special-purpose ranges not covered by netip's
// predicates (RFC 6890 and successors).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
}

// Prefixes that embed an IPv4 address, which must be public itself.
var (
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	six2four = netip.MustParsePrefix("2002::/16")
)

// publicAddr reports whether ip is a public unicast address: not invalid,
// loopback, private (RFC 1918, fc00::/7), link-local, unspecified,
// multicast, CGNAT, documentation, benchmarking or reserved, and, for an
// IPv4-mapped, NAT64 or 6to4 address, not embedding such an address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	b := ip.As16()
	switch {
	case ip.Is6() && nat64.Contains(ip):
		return publicAddr(netip.AddrFrom4([4]byte(b[12:16])))
	case ip.Is6() && six2four.Contains(ip):
		return publicAddr(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return true
}

var discard = slog.New(slog.DiscardHandler)

func (f *Fetcher) log() *slog.Logger {
	if f.Logger == nil {
		return discard
	}
	return f.Logger
}

// hashReader returns the sha256 (hex) and length of what r yields.
func hashReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(h, r, *buf)
	return hex.EncodeToString(h.Sum(nil)), n, err
}
