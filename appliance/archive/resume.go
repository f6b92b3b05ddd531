package archive

// Resuming a partial file: its state on disk, and the Content-Range
// storage answers a ranged request with; hashing what was received.

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
)

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

// hashReader returns the sha256 (hex) and length of what r yields.
func hashReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(h, r, *buf)
	return hex.EncodeToString(h.Sum(nil)), n, err
}
