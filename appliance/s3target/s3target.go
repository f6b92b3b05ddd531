// Package s3target is notekeeper's S3-compatible archive target (AWS S3,
// Backblaze B2, Cloudflare R2, Wasabi, MinIO, Garage, versitygw …): a
// meeting's files become objects {prefix}{notetaker_id}/{name} with
// manifest.json beside them. It implements archive.Target on
// github.com/minio/minio-go/v7, chosen for its S3-compatible focus, its
// small dependency tree and its parallel multipart upload straight from a
// file (io.ReaderAt), presigned GETs and incomplete-upload management.
package s3target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"github.com/notekeeper/notekeeper/appliance/archive"
)

// Multipart upload shape: parts of PartSize, Concurrency in flight. Parts
// are read from the file at their offsets, not buffered, so memory does not
// grow with either (at most PartSize × Concurrency = 64 MiB would be
// buffered by a client that did).
const (
	PartSize    = 16 << 20
	Concurrency = 4
)

// Config is the [archive.s3] table, validated by the caller.
type Config struct {
	Endpoint     string // URL: https://s3.eu-west-1.amazonaws.com, http://127.0.0.1:7070 …
	Region       string
	Bucket       string
	Prefix       string // prepended to every key, e.g. "notekeeper/"
	AccessKey    string
	SecretKey    string
	PathStyle    bool   // path-style requests (MinIO, Garage, versitygw) instead of virtual hosts
	StorageClass string // e.g. STANDARD_IA; "" = the bucket's default
	SSE          string // "" | "AES256" | "aws:kms" | "aws:kms:KEY_ID"
	// StallTimeout is how long a connection to the bucket may move no byte
	// either way (an answer that does not come, a body the server stops
	// reading) before the call fails with archive.ErrUnreachable, after the
	// client's tries, instead of holding the archive task; default 1 minute.
	StallTimeout time.Duration
}

// Bucket is an archive.Target on one S3 bucket.
type Bucket struct {
	cfg    Config
	client *minio.Client
	sse    encrypt.ServerSide
}

var _ archive.Target = (*Bucket)(nil)

// New returns a Bucket for cfg. It does not contact the server (see Ping).
func New(cfg Config) (*Bucket, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3 endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	transport, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	stall := cfg.StallTimeout
	if stall <= 0 {
		stall = time.Minute
	}
	transport.ResponseHeaderTimeout = stall
	transport.DialContext = stallDialer(stall)
	client, err := minio.New(u.Host, &minio.Options{
		Transport:    transport,
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   3, // the archive task retries with back-off itself
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	b := &Bucket{cfg: cfg, client: client}
	switch {
	case cfg.SSE == "":
	case cfg.SSE == "AES256":
		b.sse = encrypt.NewSSE()
	case cfg.SSE == "aws:kms" || strings.HasPrefix(cfg.SSE, "aws:kms:"):
		if b.sse, err = encrypt.NewSSEKMS(strings.TrimPrefix(strings.TrimPrefix(cfg.SSE, "aws:kms"), ":"), nil); err != nil {
			return nil, fmt.Errorf("s3 sse: %w", err)
		}
	default:
		return nil, fmt.Errorf("s3 sse %q: want \"\", \"AES256\", \"aws:kms\" or \"aws:kms:KEY_ID\"", cfg.SSE)
	}
	return b, nil
}

// Client is the underlying client (tests, the benchmark).
func (b *Bucket) Client() *minio.Client { return b.client }

// String names the bucket and prefix, e.g. "s3://archive/notekeeper/".
func (b *Bucket) String() string { return "s3://" + b.cfg.Bucket + "/" + b.cfg.Prefix }

// Key returns {prefix}{id}/{name}.
func (b *Bucket) Key(id, name string) string { return b.cfg.Prefix + id + "/" + name }

// metaSHA256 is the user-metadata name of an object's sha256 (hex).
const metaSHA256 = "Sha256"

// Upload implements archive.Target. Parts of PartSize go out Concurrency
// at a time, each read straight from the file at its offset (no part
// buffers: memory stays a few MiB whatever the size) and protected by the
// client's per-chunk payload signature, which the server checks. Meanwhile
// the file is hashed again by a sequential read (from the page cache); the
// upload only counts when that sha256 still equals the manifest's, and the
// object's size and sha256 metadata match. The object only appears under
// key when the multipart upload completes.
func (b *Bucket) Upload(ctx context.Context, key, path string, e archive.FileEntry) error {
	if err := b.abortStale(ctx, key); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	defer f.Close()
	type hashed struct {
		sum string
		n   int64
		err error
	}
	hc := make(chan hashed, 1)
	go func() {
		sum, n, err := archive.HashReader(io.NewSectionReader(f, 0, 1<<62))
		hc <- hashed{sum, n, err}
	}()
	opts := minio.PutObjectOptions{
		ContentType:          e.ContentType,
		UserMetadata:         map[string]string{metaSHA256: e.SHA256},
		PartSize:             PartSize,
		NumThreads:           Concurrency,
		StorageClass:         b.cfg.StorageClass,
		ServerSideEncryption: b.sse,
	}
	_, err = b.client.PutObject(ctx, b.cfg.Bucket, key, f, e.Bytes, opts)
	h := <-hc
	if err != nil {
		return b.wrap("upload "+key, err)
	}
	if h.err != nil {
		return fmt.Errorf("upload %s: hash %s: %w", key, path, h.err)
	}
	if h.n != e.Bytes || h.sum != strings.ToLower(e.SHA256) {
		b.client.RemoveObject(ctx, b.cfg.Bucket, key, minio.RemoveObjectOptions{})
		return fmt.Errorf("upload %s: %w: the local file (%d bytes) hashes to %s, the manifest says %s (%d bytes)", key, archive.ErrChecksum, h.n, h.sum, e.SHA256, e.Bytes)
	}
	if err := b.Check(ctx, key, e, false); err != nil {
		if errors.Is(err, archive.ErrChecksum) {
			b.client.RemoveObject(ctx, b.cfg.Bucket, key, minio.RemoveObjectOptions{})
		}
		return err
	}
	return nil
}

// abortStale aborts incomplete multipart uploads of key, left by a crash.
func (b *Bucket) abortStale(ctx context.Context, key string) error {
	for u := range b.client.ListIncompleteUploads(ctx, b.cfg.Bucket, key, false) {
		if u.Err != nil {
			return b.wrap("list incomplete uploads of "+key, u.Err)
		}
		if u.Key == key {
			if err := b.client.RemoveIncompleteUpload(ctx, b.cfg.Bucket, key); err != nil {
				return b.wrap("abort stale upload of "+key, err)
			}
			return nil
		}
	}
	return nil
}

// Check implements archive.Target.
func (b *Bucket) Check(ctx context.Context, key string, e archive.FileEntry, rehash bool) error {
	info, err := b.client.StatObject(ctx, b.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%s: %w", key, archive.ErrObjectMissing)
		}
		return b.wrap("stat "+key, err)
	}
	meta := info.UserMetadata[metaSHA256]
	if meta == "" {
		meta = info.Metadata.Get("X-Amz-Meta-Sha256")
	}
	if info.Size != e.Bytes || !strings.EqualFold(meta, e.SHA256) {
		return fmt.Errorf("%s: %w (object: %d bytes, sha256 metadata %q; manifest: %d, %s)", key, archive.ErrChecksum, info.Size, meta, e.Bytes, e.SHA256)
	}
	if !rehash {
		return nil
	}
	rc, err := b.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	sum, n, err := archive.HashReader(rc)
	if err != nil {
		return b.wrap("read "+key, err)
	}
	if n != e.Bytes || !strings.EqualFold(sum, e.SHA256) {
		return fmt.Errorf("%s: %w (object hashes to %s over %d bytes; manifest: %s, %d)", key, archive.ErrChecksum, sum, n, e.SHA256, e.Bytes)
	}
	return nil
}

// Open implements archive.Target.
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := b.client.GetObject(ctx, b.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, b.wrap("get "+key, err)
	}
	return obj, nil
}

// manifestMax bounds a manifest read from the bucket.
const manifestMax = 1 << 20

// PutManifest implements archive.Target.
func (b *Bucket) PutManifest(ctx context.Context, id string, m *archive.Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("put manifest: %w", err)
	}
	data = append(data, '\n')
	key := b.Key(id, archive.ManifestName)
	_, err = b.client.PutObject(ctx, b.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType: "application/json", StorageClass: b.cfg.StorageClass, ServerSideEncryption: b.sse,
		SendContentMd5: true,
	})
	return b.wrap("put "+key, err)
}

// GetManifest implements archive.Target.
func (b *Bucket) GetManifest(ctx context.Context, id string) (*archive.Manifest, error) {
	key := b.Key(id, archive.ManifestName)
	rc, err := b.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, manifestMax))
	if err != nil {
		if isNotFound(err) {
			return nil, archive.ErrNoManifest
		}
		return nil, b.wrap("get "+key, err)
	}
	m := &archive.Manifest{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if m.Files == nil {
		m.Files = map[string]archive.FileEntry{}
	}
	return m, nil
}

// PresignGet implements archive.Target.
func (b *Bucket) PresignGet(ctx context.Context, key, name, contentType string, ttl time.Duration) (*url.URL, error) {
	q := url.Values{"response-content-disposition": {"attachment; filename=\"" + name + "\""}}
	if contentType != "" {
		q.Set("response-content-type", contentType)
	}
	u, err := b.client.PresignedGetObject(ctx, b.cfg.Bucket, key, ttl, q)
	if err != nil {
		return nil, b.wrap("presign "+key, err)
	}
	return u, nil
}

// Ping implements archive.Target: the bucket exists and the credentials
// are accepted.
func (b *Bucket) Ping(ctx context.Context) error {
	ok, err := b.client.BucketExists(ctx, b.cfg.Bucket)
	if err != nil {
		return b.wrap("reach bucket", err)
	}
	if !ok {
		return fmt.Errorf("%s: bucket %q does not exist", b, b.cfg.Bucket)
	}
	return nil
}

// wrap adds context and, where the cause is clear, archive.ErrUnreachable
// or archive.ErrCredentials.
func (b *Bucket) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken":
		return fmt.Errorf("%s %s: %w: %s (%s); check [archive.s3] access_key and secret_key", b, what, archive.ErrCredentials, resp.Message, resp.Code)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) || resp.StatusCode >= 500 ||
		errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%s %s: %w: %w", b, what, archive.ErrUnreachable, err)
	}
	return fmt.Errorf("%s %s: %w", b, what, err)
}

// stallDialer dials connections that fail a Read or Write once nothing has
// moved, in either direction, for stall: every byte read or written pushes
// both deadlines back, so a long upload or a slow but steady answer is not
// cut, while a server that stops answering or reading is.
func stallDialer(stall time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		sc := &stallConn{Conn: c, stall: stall}
		sc.progress()
		return sc, nil
	}
}

type stallConn struct {
	net.Conn
	stall time.Duration
}

func (c *stallConn) progress() { c.Conn.SetDeadline(time.Now().Add(c.stall)) }

func (c *stallConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.progress()
	}
	return n, err
}

func (c *stallConn) Write(b []byte) (int, error) {
	c.progress()
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.progress()
	}
	return n, err
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey"
}
