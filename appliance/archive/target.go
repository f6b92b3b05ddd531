package archive

import (
	"context"
	"errors"
	"io"
	"net/url"
	"time"
)

// Target is an archive destination beyond the meeting's local folder:
// S3-compatible object storage (package s3target). The local folder
// {data_dir}/media/{id}/ is where every download lands first (the spool:
// partial files, resume, sha256 while streaming); with a Target each
// complete, checked file is then uploaded and verified, and big files are
// removed locally (see KeepLocal). Without a Target (nil, the default) the
// local folder is the archive itself, exactly as before.
//
// Implementations are safe for concurrent use. Methods honour ctx.
type Target interface {
	// Key returns the object key of a meeting's file: {prefix}{id}/{name}.
	Key(id, name string) string
	// Upload copies the complete local file at path to key, streaming it in
	// bounded memory, with e.SHA256 stored as object metadata. Stale
	// incomplete uploads of key (a crash mid-upload) are aborted first; an
	// upload that fails leaves nothing under key. It returns nil only when
	// the bytes sent hash to e.SHA256 and the stored object has e.Bytes and
	// that sha256 (else ErrChecksum, after removing the bad object).
	Upload(ctx context.Context, key, path string, e FileEntry) error
	// Check compares the object at key with e: it exists (else
	// ErrObjectMissing), has e.Bytes and sha256 metadata e.SHA256 (else
	// ErrChecksum). With rehash it also streams the object and hashes it.
	Check(ctx context.Context, key string, e FileEntry, rehash bool) error
	// PutManifest writes m as the object {prefix}{id}/manifest.json.
	PutManifest(ctx context.Context, id string, m *Manifest) error
	// GetManifest reads {prefix}{id}/manifest.json: ErrNoManifest when absent.
	GetManifest(ctx context.Context, id string) (*Manifest, error)
	// Open streams the object at key (for verify and migrate checks).
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// PresignGet returns a URL that GETs key (Range included) for ttl,
	// answered as an attachment named name with contentType.
	PresignGet(ctx context.Context, key, name, contentType string, ttl time.Duration) (*url.URL, error)
	// Ping checks that the bucket is reachable with the credentials.
	Ping(ctx context.Context) error
	// String names the target for messages, e.g. "s3://bucket/prefix".
	String() string
}

// Errors of a Target, for errors.Is.
var (
	// ErrObjectMissing: the object a manifest names is not in the bucket.
	ErrObjectMissing = errors.New("object missing")
	// ErrUnreachable: the server could not be reached at all (connection
	// refused, DNS, timeouts, 5xx). Nothing is wrong with the request: wait
	// and try again.
	ErrUnreachable = errors.New("bucket unreachable")
	// ErrCredentials: the server refuses the access key or secret key.
	ErrCredentials = errors.New("s3 credentials refused")
)

// KeepLocal reports whether a meeting's file stays in the local folder once
// it is uploaded to a Target: the small text files (transcript, summary,
// action items, transcript.txt, the manifest) stay, because CRM and ATS
// delivery and the admin UI read them locally; recordings and thumbnails,
// the big files, are removed once their object is verified.
func KeepLocal(name string) bool {
	switch name {
	case "transcript.json", "summary.json", "action_items.json", "transcript.txt", ManifestName:
		return true
	}
	return false
}

// HashReader returns the lowercase hex sha256 of everything r yields and
// its length, in bounded memory.
func HashReader(r io.Reader) (sum string, n int64, err error) { return hashReader(r) }
