// Command notekeeper is a self-hosted appliance that receives Nylas
// Notetaker and Scheduler webhooks, stores them durably, archives meetings
// and delivers them to a CRM or ATS. `notekeeper help` lists the commands;
// README.md describes them.
//
// This file holds the command table (each command's flags live beside it,
// in cmd_*.go and check.go). Main (wiring.go) opens the components of serve
// in order (store → workers → jobs → HTTP) and closes them in reverse;
// wiring_pipeline.go builds the workers and jobs, wiring_http.go the
// listeners.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	routeStdLog(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		code := 1
		var ee exitError
		var es exitStatus
		switch {
		case errors.As(err, &es):
			code = int(es) // nylas plan: 2, changes pending
		case !errors.As(err, &ee):
			fmt.Fprintln(os.Stderr, "notekeeper:", err)
		}
		stop()
		os.Exit(code) // the only os.Exit: every defer in run has already executed
	}
}

// exitError makes run fail with exit status 1 after it has already said
// everything itself (check's problem list).
type exitError struct{}

func (exitError) Error() string { return "exit status 1" }

// exitStatus makes run end the process with that status, having said
// everything itself (nylas plan's 2: changes pending).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// stdio is a command's standard streams.
type stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// command is one `notekeeper NAME …`: its arguments and what it does, as the
// usage text shows them, and the function that runs it. run returns when
// the command is done (serve: when ctx is cancelled and everything is shut
// down); exitError means it has already said why it failed.
type command struct {
	name     string
	args     string
	summary  string
	operator bool // talks to the running daemon's socket, else opens the store
	run      func(ctx context.Context, args []string, std stdio) error
}

// commandTable lists every command, in the order of the usage text; the
// operator commands come last.
func commandTable() []command {
	return []command{
		{name: "serve", summary: "run the appliance until SIGTERM/SIGINT", run: runServe},
		{name: "check", args: "[-offline]", summary: "validate the configuration and this machine (-offline: no DNS or bucket probe)", run: runCheck},
		{name: "doctor", args: "[-offline]", summary: "one screen for a support request: version, config without secrets, check, ports, queue, jobs", run: runDoctor},
		{name: "demo", args: "[-once] [-keep-data]", summary: "run the whole pipeline on this machine, no Nylas account needed", run: runDemo},
		{name: "webhook", args: "create|list|status|rotate-secret", summary: "the Nylas webhook destination", run: runWebhook},
		{name: "nylas", args: "plan|apply|grants", summary: "the [[calendar]] and [[scheduler]] tables on the Nylas side; the grants", run: runNylas},
		{name: "bot", args: "join URL | cancel ID | leave ID", summary: "an ad-hoc Notetaker for one meeting (-grant, -at, -name)", run: runBot},
		{name: "hash-password", summary: "read a password on stdin, print its bcrypt hash for [admin] users", run: runHashPassword},
		{name: "archive", args: "migrate -to s3 [-delete-local]", summary: "copy local meetings to the [archive.s3] bucket (daemon stopped)", run: runArchive},
		{name: "version", summary: "print version, commit and Go version", run: runVersion},
		{name: "help", summary: "print this text", run: runHelp},

		{name: "status", args: "[-json]", summary: "the appliance at a glance", operator: true, run: runStatus},
		{name: "events", args: "[-json] [-since T] [-type T]", summary: "stored notifications", operator: true, run: runEvents},
		{name: "tasks", args: "[-failed] [-json]", summary: "the task queue", operator: true, run: runTasks},
		{name: "retry", args: "KEY | -all-failed", summary: "run a (dead-lettered) task again", operator: true, run: runRetry},
		{name: "replay", args: "-id ID | -since T", summary: "process stored notifications again", operator: true, run: runReplay},
		{name: "verify", summary: "re-hash archived files against their manifests", operator: true, run: runVerify},
		{name: "backup", args: "-o FILE", summary: "database, certificates and keys as tar.gz", operator: true, run: runBackup},
		{name: "restore", args: "FILE", summary: "replace the state with a backup (daemon stopped)", operator: true, run: runRestore},
		{name: "hold", args: "[-release] NOTETAKER_ID", summary: "legal hold: retention keeps the meeting's files", operator: true, run: runHold},
		{name: "search", args: "[-json] [-limit N] QUERY", summary: "full-text search over archived meetings, best match first", operator: true, run: runSearch},
		{name: "export", args: "NOTETAKER_ID -o FILE", summary: "one meeting's files, manifest and SHA256SUMS as tar.gz", operator: true, run: runExport},
		{name: "reindex", summary: "settle missing meeting metadata and rebuild the search index", operator: true, run: runReindex},
	}
}

// commandAliases are other spellings of a command.
var commandAliases = map[string]string{
	"-version": "version", "--version": "version",
	"-h": "help", "-help": "help", "--help": "help",
}

// usage is the text `notekeeper help` prints, made from the command table
// (whose operator commands come last).
func usage() string {
	var b strings.Builder
	b.WriteString("usage: notekeeper <command> [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0) // a line without a tab starts a new alignment
	operators := false
	for _, c := range commandTable() {
		if c.operator && !operators {
			operators = true
			fmt.Fprint(tw, "\noperator commands (through the running daemon's socket, else on the store directly):\n")
		}
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	tw.Flush()
	b.WriteString("\nEvery command takes -config FILE (default $NOTEKEEPER_CONFIG, then /etc/notekeeper/config.toml).\n")
	return b.String()
}

// run executes one command line with the process's stdin.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	std := stdio{In: os.Stdin, Out: stdout, Err: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return errors.New("no command given")
	}
	name, args := args[0], args[1:]
	name = cmp.Or(commandAliases[name], name)
	for _, c := range commandTable() {
		if c.name == name {
			return c.run(ctx, args, std)
		}
	}
	fmt.Fprint(stderr, usage())
	return fmt.Errorf("unknown command %q", name)
}

func runHelp(_ context.Context, _ []string, std stdio) error {
	_, err := fmt.Fprint(std.Out, usage())
	return err
}
