package archive

// The disk reserve a Fetch keeps: Reserve and the writer that asks it
// while streaming.

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"syscall"
)

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
