package store

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Notification bodies are stored zstd-compressed when that pays: a ~3 KB
// Nylas notification (JSON, five signed media links) shrinks to about half,
// and bbolt, with the notifications bucket filled densely (FillPercent 1),
// then fits two to a 4 KiB page instead of one. Compression runs in the
// caller's goroutine before the write joins the committer (Ingest), so the
// single writer's transactions do not grow; decompression runs when a
// notification is read.
//
// Body encodings (the byte before the body, notification format 2):
const (
	bodyRaw  = 0 // as received
	bodyZstd = 1 // one zstd frame
)

// maxNotificationBody bounds what a stored body may decompress to, well
// above any accepted request (the receiver caps bodies at a few MiB).
const maxNotificationBody = 64 << 20

// The shared encoder and decoder: both are safe for concurrent use and
// made on first use, so a process that never ingests never pays for them.
var (
	bodyEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithWindowSize(1<<17),
			zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
		if err != nil {
			panic(err) // only for invalid options
		}
		return e
	})
	bodyDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(maxNotificationBody), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic(err)
		}
		return d
	})
)

// packBody returns the stored form of body and its encoding: compressed
// when that saves at least an eighth, else as it is.
func packBody(body []byte) ([]byte, byte) {
	if len(body) < 256 {
		return body, bodyRaw
	}
	c := bodyEncoder().EncodeAll(body, make([]byte, 0, len(body)/2))
	if len(c) > len(body)-len(body)/8 {
		return body, bodyRaw
	}
	return c, bodyZstd
}

// unpackBody returns a copy of the body stored as b with encoding enc.
func unpackBody(b []byte, enc byte) ([]byte, error) {
	switch enc {
	case bodyRaw:
		return append([]byte(nil), b...), nil
	case bodyZstd:
		out, err := bodyDecoder().DecodeAll(b, nil)
		if err != nil {
			return nil, fmt.Errorf("decompress body: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("body encoding %d: %w", enc, errCorrupt)
}
