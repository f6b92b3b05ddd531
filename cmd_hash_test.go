package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/config"
	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	for _, c := range []struct {
		name, stdin string
		args        []string
		wantErr     string
	}{
		{name: "line with newline", stdin: "correct horse\n"},
		{name: "no trailing newline", stdin: "correct horse"},
		{name: "crlf", stdin: "correct horse\r\n"},
		{name: "empty", stdin: "\n", wantErr: "empty password"},
		{name: "argument refused", stdin: "x\n", args: []string{"secret"}, wantErr: "not as an argument"},
		{name: "too long for bcrypt", stdin: strings.Repeat("a", 73) + "\n", wantErr: "at most 72 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runHashPassword(t.Context(), c.args, stdio{In: strings.NewReader(c.stdin), Out: &out, Err: &errOut})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hash := strings.TrimSpace(out.String())
			users := fmt.Sprintf("[nylas]\napi_key = \"k\"\nwebhook_secrets = [\"s\"]\n[admin.users]\nalice = %q\n", hash)
			if _, err := config.Parse([]byte(users)); err != nil {
				t.Fatalf("%q is not a hash [admin] users accepts: %v", hash, err)
			}
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")) != nil {
				t.Fatal("hash does not verify the password")
			}
			if cost, _ := bcrypt.Cost([]byte(hash)); cost != hashCost {
				t.Fatalf("cost %d", cost)
			}
		})
	}
}
