package httpserve_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/httpserve"
)

func TestServe(t *testing.T) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	for _, tc := range []struct {
		name   string
		tls    bool
		scheme string
	}{
		{"plain", false, "http://"},
		{"tls", true, "https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			client := http.DefaultClient
			var cfg *tls.Config
			if tc.tls {
				ts := httptest.NewUnstartedServer(nil) // only for its test certificate
				ts.StartTLS()
				cfg = &tls.Config{Certificates: ts.TLS.Certificates}
				client = ts.Client()
				ts.Close()
			}
			r := httpserve.Serve("test", ln, cfg, httpserve.NewServer(hello, nil))
			if !strings.HasPrefix(r.URL(), tc.scheme) || r.Port() == 0 {
				t.Fatalf("URL %q port %d, want %s…", r.URL(), r.Port(), tc.scheme)
			}
			resp, err := client.Get(r.URL())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "hello" {
				t.Fatalf("body %q", b)
			}
			if err := r.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Get(r.URL()); err == nil {
				t.Fatal("still serving after Close")
			}
		})
	}
}
