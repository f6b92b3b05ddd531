package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
)

// recordingMP4 is a real 4-second MP4 (H.264 160x90 test pattern, AAC
// 440 Hz tone, 21 KB), made once with
//
//	ffmpeg -f lavfi -i testsrc2=size=160x90:rate=10:duration=4 \
//	  -f lavfi -i sine=frequency=440:duration=4:sample_rate=16000 \
//	  -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p -c:a aac -b:a 16k -ac 1 \
//	  -shortest -movflags +faststart -map_metadata -1 -fflags +bitexact recording.mp4
//
// and committed, so that the demo needs no ffmpeg.
//
//go:embed media/recording.mp4
var recordingMP4 []byte

// Recording returns the demo's recording: a short real MP4 (video/mp4). The
// slice is a copy.
func Recording() []byte { return bytes.Clone(recordingMP4) }

// Line is one speaker-labelled transcript segment; Start and End are
// milliseconds from the start of the recording.
type Line struct {
	Speaker    string
	Start, End int
	Text       string
}

// TranscriptJSON renders lines in Nylas' speaker-labelled transcript shape:
// {"object":"transcript","type":"speaker_labelled","transcript":[{"speaker",
// "start","end","text"}]}.
func TranscriptJSON(lines []Line) []byte {
	type segment struct {
		Speaker string `json:"speaker"`
		Start   int    `json:"start"`
		End     int    `json:"end"`
		Text    string `json:"text"`
	}
	segs := make([]segment, len(lines))
	for i, l := range lines {
		segs[i] = segment(l)
	}
	return mustIndent(struct {
		Object     string    `json:"object"`
		Type       string    `json:"type"`
		Transcript []segment `json:"transcript"`
	}{"transcript", "speaker_labelled", segs})
}

// SummaryJSON is a summary file: {"summary": text}.
func SummaryJSON(text string) []byte {
	return mustIndent(map[string]string{"summary": text})
}

// ActionItemsJSON is an action-items file: {"action_items":[{"text"}…]}.
func ActionItemsJSON(items []string) []byte {
	type item struct {
		Text string `json:"text"`
	}
	out := make([]item, len(items))
	for i, s := range items {
		out[i] = item{s}
	}
	return mustIndent(map[string][]item{"action_items": out})
}

// Thumbnail draws a 320x180 PNG: a vertical gradient from tint to a darker
// shade with a white "play" triangle in the middle. The same tint gives the
// same bytes.
func Thumbnail(tint color.RGBA) []byte {
	const w, h = 320, 180
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		f := 1 - 0.6*float64(y)/h
		c := color.RGBA{uint8(float64(tint.R) * f), uint8(float64(tint.G) * f), uint8(float64(tint.B) * f), 255}
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	// The triangle: left edge at x0, pointing right, centred vertically.
	const x0, size = w/2 - 20, 48
	for x := range size {
		half := (size - x) / 2
		for y := h/2 - half; y <= h/2+half; y++ {
			img.SetRGBA(x0+x, y, color.RGBA{255, 255, 255, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return buf.Bytes()
}

// mustIndent encodes v as indented JSON; v is always encodable here.
func mustIndent(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}
