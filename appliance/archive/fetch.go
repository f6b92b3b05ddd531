package archive

import (
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
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors a Fetch can end with, for errors.Is.
var (
	// ErrExpired: storage refused the signed URL (400, 401, 403, 404, 410),
	// as it does once a link has expired. The partial file is kept; fetch
	// again with fresh links and it resumes.
	ErrExpired = errors.New("media link refused or expired")
	// ErrTooLarge: the file is over MaxBytes. Nothing is kept.
	ErrTooLarge = errors.New("file over max_file_bytes")
	// ErrSizeMismatch: the file's size is not what was announced. Nothing is
	// kept.
	ErrSizeMismatch = errors.New("size differs from the announced size")
	// ErrNotAllowed: the URL's scheme, host or address is refused by policy.
	ErrNotAllowed = errors.New("media URL not allowed")
)

const copyBufferSize = 256 << 10

// Fetcher downloads media files from presigned storage URLs. Its zero value
// plus MaxBytes is usable; it is safe for concurrent use.
//
// It never sends credentials: requests carry no Authorization header and no
// cookies, and redirects are re-checked against the policy. Only https URLs
// are fetched (http too with AllowHTTP), only from Hosts when that is set,
// and, unless AllowHTTP, only from public addresses: the address is checked
// when the connection is made, so DNS cannot point a host at a private one.
type Fetcher struct {
	AllowHTTP bool     // [nylas] allow_http_media: also http:// and non-public addresses
	Hosts     []string // [nylas] media_hosts: when set, the only host names fetched from
	MaxBytes  int64    // [archive] max_file_bytes; 0 = no bound
	Logger    *slog.Logger

	once   sync.Once
	client *http.Client
}

// Request is one file to fetch.
type Request struct {
	URL    string
	Dir    string // the meeting's folder; created 0700 if missing
	Name   string // final file name; the partial is Dir/.{Name}.partial
	Expect int64  // size Nylas announced; 0 = unknown
	// NameFor, when set, picks the final name from the response's
	// Content-Type (a thumbnail announced as png that arrives as jpeg).
	NameFor func(contentType string) string
}

// Result describes a completed file.
type Result struct {
	Name        string // final file name
	Bytes       int64
	SHA256      string // lowercase hex
	ContentType string
	Resumed     bool // part of it came from an earlier, interrupted fetch
}

// Fetch streams r.URL into Dir/.{Name}.partial while hashing it, then checks
// its size (against r.Expect, the response's length and MaxBytes), fsyncs
// it, renames it to its final name and fsyncs the folder. Only then does it
// return: a file never stands under its final name incomplete.
//
// A partial file left by an interrupted fetch (a cut connection, a crash, a
// cancelled ctx) is resumed with a Range request; a server that ignores
// Range (200) or cannot satisfy it (416) makes it start over. Errors that a
// retry can fix (network, short body, ErrExpired, ctx) keep the partial;
// ErrTooLarge and ErrSizeMismatch remove it. Memory use does not depend on
// the file's size.
func (f *Fetcher) Fetch(ctx context.Context, r Request) (*Result, error) {
	u, err := f.checkURL(r.URL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	partial := filepath.Join(r.Dir, "."+r.Name+".partial")
	file, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	res, keep, err := f.fetch(ctx, u, r, file)
	if cerr := file.Close(); err == nil && cerr != nil {
		err, keep = cerr, true
	}
	if err != nil {
		if fi, serr := os.Stat(partial); !keep || (serr == nil && fi.Size() == 0) {
			os.Remove(partial) // nothing worth resuming
		}
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	final := filepath.Join(r.Dir, res.Name)
	if err := os.Rename(partial, final); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	if err := syncDir(r.Dir); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", r.Name, err)
	}
	return res, nil
}

// fetch does the transfer into file; keep says whether to keep the partial
// on error.
func (f *Fetcher) fetch(ctx context.Context, u *url.URL, r Request, file *os.File) (*Result, bool, error) {
	have, h, err := resumeState(file, r.Expect, f.MaxBytes)
	if err != nil {
		return nil, true, err
	}
	resp, err := f.get(ctx, u, have)
	if err != nil {
		return nil, !errors.Is(err, ErrNotAllowed), err
	}
	defer resp.Body.Close()
	resumed := false
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return nil, false, fmt.Errorf("storage answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), have)
		}
		resumed = true
	case resp.StatusCode == http.StatusOK:
		if have > 0 { // Range ignored: start over
			if have, h, err = 0, sha256.New(), restart(file); err != nil {
				return nil, true, err
			}
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The partial does not fit the file any more: drop it; the retry
		// starts from zero.
		return nil, false, fmt.Errorf("storage cannot resume from byte %d (416)", have)
	case slices.Contains([]int{400, 401, 403, 404, 410}, resp.StatusCode):
		return nil, true, fmt.Errorf("%w: storage answered %d", ErrExpired, resp.StatusCode)
	default:
		return nil, true, fmt.Errorf("storage answered %d", resp.StatusCode)
	}

	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	if f.MaxBytes > 0 && total > f.MaxBytes {
		return nil, false, fmt.Errorf("%w: %d bytes announced, bound %d", ErrTooLarge, total, f.MaxBytes)
	}
	if r.Expect > 0 && total >= 0 && total != r.Expect {
		return nil, false, fmt.Errorf("%w: storage sends %d bytes, Nylas announced %d", ErrSizeMismatch, total, r.Expect)
	}
	if _, err := file.Seek(have, io.SeekStart); err != nil {
		return nil, true, err
	}
	body := io.Reader(resp.Body)
	if f.MaxBytes > 0 {
		body = io.LimitReader(resp.Body, f.MaxBytes-have+1)
	}
	n, err := io.CopyBuffer(io.MultiWriter(file, h), body, make([]byte, copyBufferSize))
	size := have + n
	switch {
	case f.MaxBytes > 0 && size > f.MaxBytes:
		return nil, false, fmt.Errorf("%w: over %d bytes", ErrTooLarge, f.MaxBytes)
	case err != nil:
		return nil, true, fmt.Errorf("interrupted after %d bytes: %w", size, err)
	case total >= 0 && size != total:
		return nil, true, fmt.Errorf("interrupted after %d of %d bytes: %w", size, total, io.ErrUnexpectedEOF)
	case r.Expect > 0 && size != r.Expect:
		return nil, false, fmt.Errorf("%w: got %d bytes, Nylas announced %d", ErrSizeMismatch, size, r.Expect)
	}
	if err := file.Sync(); err != nil {
		return nil, true, err
	}
	ct := resp.Header.Get("Content-Type")
	name := r.Name
	if r.NameFor != nil {
		name = r.NameFor(ct)
	}
	if resumed && f.Logger != nil {
		f.Logger.Debug("download resumed", slog.String("file", name), slog.Int64("from", have))
	}
	return &Result{Name: name, Bytes: size, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: ct, Resumed: resumed}, true, nil
}

// resumeState reads what an earlier fetch left in file: its size and a
// hash of its bytes. A partial larger than the file can be is dropped.
func resumeState(file *os.File, expect, maxBytes int64) (int64, hash.Hash, error) {
	h := sha256.New()
	st, err := file.Stat()
	if err != nil {
		return 0, nil, err
	}
	have := st.Size()
	if (expect > 0 && have >= expect) || (maxBytes > 0 && have > maxBytes) {
		return 0, h, restart(file)
	}
	if have > 0 {
		if _, err := io.CopyBuffer(h, io.NewSectionReader(file, 0, have), make([]byte, copyBufferSize)); err != nil {
			return 0, nil, err
		}
	}
	return have, h, nil
}

// restart empties the partial file.
func restart(file *os.File) error {
	if err := file.Truncate(0); err != nil {
		return err
	}
	_, err := file.Seek(0, io.SeekStart)
	return err
}

// get sends the GET, from byte `from` when it is not 0.
func (f *Fetcher) get(ctx context.Context, u *url.URL, from int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
	}
	resp, err := f.httpClient().Do(req)
	if err != nil {
		// A url.Error repeats the signed URL, whose query is a credential:
		// report the host and path only.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("get %s%s: %w", u.Host, u.Path, ue.Err)
		}
		return nil, err
	}
	return resp, nil
}

// contentRangeStart parses the first byte of "bytes a-b/c".
func contentRangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// checkURL applies the scheme and host policy.
func (f *Fetcher) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrNotAllowed)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: URL carries credentials", ErrNotAllowed)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && f.AllowHTTP) {
		return nil, fmt.Errorf("%w: scheme %q", ErrNotAllowed, u.Scheme)
	}
	if len(f.Hosts) > 0 && !slices.ContainsFunc(f.Hosts, func(h string) bool { return strings.EqualFold(h, u.Hostname()) }) {
		return nil, fmt.Errorf("%w: host %q is not in media_hosts", ErrNotAllowed, u.Hostname())
	}
	return u, nil
}

// httpClient builds the one client, with connect, TLS and header timeouts
// but no overall timeout (recordings are large), no transparent
// decompression (bytes are archived as served) and the policy on redirects
// and on every connection.
func (f *Fetcher) httpClient() *http.Client {
	f.once.Do(func() {
		dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, Control: f.checkAddress}
		f.client = &http.Client{
			Transport: &http.Transport{
				Proxy:                 nil, // a proxy would hide the address check
				DialContext:           dialer.DialContext,
				TLSHandshakeTimeout:   15 * time.Second,
				ResponseHeaderTimeout: 60 * time.Second,
				IdleConnTimeout:       90 * time.Second,
				MaxIdleConnsPerHost:   4,
				DisableCompression:    true,
				ForceAttemptHTTP2:     true,
			},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				if _, err := f.checkURL(req.URL.String()); err != nil {
					return err
				}
				req.Header.Del("Authorization")
				req.Header.Del("Cookie")
				return nil
			},
		}
	})
	return f.client
}

// checkAddress refuses connections to non-public addresses unless
// AllowHTTP; it runs for every connection, after DNS resolution.
func (f *Fetcher) checkAddress(_, address string, _ syscall.RawConn) error {
	if f.AllowHTTP {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w: address %s is not public", ErrNotAllowed, host)
	}
	return nil
}

// hashReader returns the sha256 (hex) and length of what r yields.
func hashReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, r, make([]byte, copyBufferSize))
	return hex.EncodeToString(h.Sum(nil)), n, err
}
