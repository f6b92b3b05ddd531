package store

import "testing"

func TestNotificationCodec_RoundTrip(t *testing.T) {
	cases := []struct {
		name string
		n    Notification
	}{
		{"empty body", Notification{ID: "a", Type: "x"}},
		{"all fields", Notification{ID: "ntf-1", Type: "notetaker.media.truncated", Encoding: "gzip",
			Signature: "ab12", Error: "data.object: not an object", Body: []byte(`{"id":"ntf-1"}`)}},
		{"binary body", Notification{ID: "é", Type: "t", Body: []byte{0, 1, 2, 255}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.n
			n.ReceivedAt = timeUnixNano(1737504536123456789)
			got, err := decodeNotification(7, encodeNotification(&n))
			if err != nil {
				t.Fatal(err)
			}
			n.Seq = 7
			if got.ID != n.ID || got.Type != n.Type || got.Encoding != n.Encoding || got.Signature != n.Signature ||
				got.Error != n.Error || string(got.Body) != string(n.Body) || !got.ReceivedAt.Equal(n.ReceivedAt) || got.Seq != 7 {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, n)
			}
		})
	}
}

func FuzzDecodeNotification(f *testing.F) {
	f.Add(encodeNotification(&Notification{ID: "a", Type: "b", Body: []byte("{}")}))
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 200})
	f.Fuzz(func(t *testing.T, v []byte) {
		n, err := decodeNotification(1, v)
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip unchanged.
		again, err := decodeNotification(1, encodeNotification(n))
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if again.ID != n.ID || again.Type != n.Type || again.Encoding != n.Encoding || again.Signature != n.Signature ||
			again.Error != n.Error || string(again.Body) != string(n.Body) || !again.ReceivedAt.Equal(n.ReceivedAt) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", n, again)
		}
	})
}
