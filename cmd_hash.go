package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// hashCost is the bcrypt cost of hashes made by hash-password: about a
// quarter second on a small VPS, paid once per login (the admin UI caches a
// verified login briefly).
const hashCost = 12

// runHashPassword reads a password (the first line of stdin) and prints its
// bcrypt hash for [admin] users, so operators need no htpasswd.
func runHashPassword(_ context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("hash-password: give the password on standard input, not as an argument (it would stay in the shell history)")
	}
	line, err := bufio.NewReader(io.LimitReader(std.In, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("hash-password: read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case pw == "":
		return errors.New("hash-password: empty password on standard input")
	case len(pw) > 72:
		return errors.New("hash-password: bcrypt uses at most 72 bytes of a password; choose a shorter one")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), hashCost)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	fmt.Fprintln(std.Out, string(hash))
	return nil
}
