package archive

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// Names an export adds beside the meeting's files.
const (
	SumsName    = "SHA256SUMS"
	MissingName = "MISSING"
)

// OpenFunc opens an archived file that is not in the meeting's local
// folder (an object in the [archive.s3] bucket); os.ErrNotExist (through
// errors.Is) when it is not there either.
type OpenFunc func(ctx context.Context, name string, e FileEntry) (io.ReadCloser, error)

// Export writes one meeting's archive to w as a tar.gz, streamed file by
// file in bounded memory: under the folder {notetaker_id}/ it holds
// manifest.json, every file the manifest lists, transcript.txt when there
// is one, and SHA256SUMS — one "hex␣␣name" line per file, the format
// `sha256sum -c` checks (run it inside the folder). Files come from dir,
// else from open (nil: local only); a listed file found in neither
// (pruned by retention) is named in a MISSING file instead. Each file is
// hashed as it is sent and compared with its manifest entry: a mismatch
// stops the export with ErrChecksum (the stream is then incomplete, never
// wrong). ErrNoManifest when dir has no manifest. ctx stops it between
// and within files.
func Export(ctx context.Context, w io.Writer, dir string, open OpenFunc) error {
	man, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	id := man.NotetakerID
	if !SafeID(id) {
		id = filepath.Base(dir)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	x := &exporter{ctx: ctx, tw: tw, prefix: id + "/", mtime: time.Now().UTC().Truncate(time.Second)}

	if err := x.addLocal(dir, ManifestName, nil); err != nil {
		return err
	}
	names := make([]string, 0, len(man.Files))
	for name := range man.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	var missing []string
	for _, name := range names {
		e := man.Files[name]
		err := x.addLocal(dir, name, &e)
		if errors.Is(err, os.ErrNotExist) && open != nil {
			err = x.addOpened(name, e, open)
		}
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, name)
			continue
		} else if err != nil {
			return err
		}
	}
	if _, ok := man.Files["transcript.txt"]; !ok {
		if err := x.addLocal(dir, "transcript.txt", nil); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if len(missing) > 0 {
		text := "Listed in manifest.json but no longer archived here (removed by retention, see [archive] keep_days):\n" +
			strings.Join(missing, "\n") + "\n"
		if err := x.addBytes(MissingName, []byte(text)); err != nil {
			return err
		}
	}
	var sums strings.Builder
	for _, s := range x.sums {
		fmt.Fprintf(&sums, "%s  %s\n", s[1], s[0])
	}
	if err := x.addBytes(SumsName, []byte(sums.String())); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exporter writes the entries of one export.
type exporter struct {
	ctx    context.Context
	tw     *tar.Writer
	prefix string
	mtime  time.Time
	sums   [][2]string // name, hex sha256; in the order written
}

// addLocal adds dir/name, checked against e when e is set; os.ErrNotExist
// when the file is not there.
func (x *exporter) addLocal(dir, name string, e *FileEntry) error {
	if !datadir.PlainName(name) {
		return fmt.Errorf("export: unsafe file name %q", name)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	if e != nil && fi.Size() != e.Bytes {
		return fmt.Errorf("export %s: %w (%d bytes on disk, manifest says %d)", name, ErrChecksum, fi.Size(), e.Bytes)
	}
	return x.add(name, fi.Size(), f, e)
}

// addOpened adds a file that open finds elsewhere.
func (x *exporter) addOpened(name string, e FileEntry, open OpenFunc) error {
	if !datadir.PlainName(name) {
		return fmt.Errorf("export: unsafe file name %q", name)
	}
	r, err := open(x.ctx, name, e)
	if err != nil {
		return err
	}
	defer r.Close()
	return x.add(name, e.Bytes, r, &e)
}

func (x *exporter) addBytes(name string, b []byte) error {
	return x.add(name, int64(len(b)), strings.NewReader(string(b)), nil)
}

// add writes one entry of size bytes from r, hashing it, and checks the
// hash against e when set.
func (x *exporter) add(name string, size int64, r io.Reader, e *FileEntry) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	hdr := &tar.Header{Name: x.prefix + name, Typeflag: tar.TypeReg, Mode: 0o600, Size: size, ModTime: x.mtime, Format: tar.FormatPAX}
	if err := x.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(x.tw, io.TeeReader(ctxReader{x.ctx, r}, h))
	if err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("export %s: %d bytes read, want %d", name, n, size)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if e != nil && !strings.EqualFold(sum, e.SHA256) {
		return fmt.Errorf("export %s: %w (sha256 %s; manifest says %s)", name, ErrChecksum, sum, e.SHA256)
	}
	if name != SumsName {
		x.sums = append(x.sums, [2]string{name, sum})
	}
	return nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
