// Command xii-load is xii's load harness: it drives a running system with
// bounded load, closed or open loop, and prints figures (throughput, latency
// percentiles, errors, provider fetches per dashboard request).
//
//	xii-load up      -coalesce=false            a system on free ports, fresh databases
//	xii-load up      -delayed-provider 20ms     and a third provider, green, 20ms away
//	xii-load seed    -url http://127.0.0.1:1101 -n 300
//	xii-load post    -url http://127.0.0.1:1101 -c 32 -d 10s
//	xii-load query   -url 'http://127.0.0.1:1100/api/v1/responses?device=iOS&location=Germany&limit=50' -c 50 -d 10s
//	xii-load query   -url A -url B -rounds 6 -d 5s   A and B take turns; ratios of B to A
//	xii-load fetches -dashboard URL -providers BLUE,RED -c 1,10,100,500 -d 10s
//	xii-load insert  -c 32 -d 10s               plain INSERTs, the database's own ceiling
//	xii-load open    -rates 250,500 -d 10s -pids $XII_PIDS   open loop at fixed rates
//	xii-load open    -rates 100,400 -pids $XII_PIDS -pid-names $XII_PID_NAMES -providers $XII_BLUE,$XII_RED
//	                 -aggregator $XII_AGGREGATOR -round-url $XII_AGGREGATOR/api/v1/sync
//	                                            and per round, fresh answers, fetches, CPU by process
//
// Every request has a timeout and every run a duration or count bound. On a
// shared machine compare targets within one run (query with several -url),
// not across runs. Run "xii-load <command> -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"up", "start a whole system on free ports with fresh databases, print its URLs", cmdUp},
	{"seed", "post N responses with a realistic spread to a survey-svc", cmdSeed},
	{"post", "POST single responses to a survey-svc at concurrency c", cmdPost},
	{"query", "send one request (GET by default) at concurrency c", cmdQuery},
	{"fetches", "provider fetches per dashboard request at several concurrencies", cmdFetches},
	{"insert", "plain INSERTs into PostgreSQL at concurrency c", cmdInsert},
	{"open", "open-loop GETs at fixed rates: latency, per sync round, 503/504, stale answers, fetches, CPU per answer", cmdOpen},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "xii-load:", err)
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no command")
		}
		return flag.ErrHelp
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: xii-load <command> [flags]   (xii-load <command> -h for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\n%s, when set, is sent with every request as a bearer token (the dashboard's\n"+
		"XII_API_TOKEN, or the aggregator's XII_INTERNAL_TOKEN).\n", tokenEnv)
}

// newFlagSet returns a flag set whose -h prints summary and the flags.
func newFlagSet(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: xii-load %s [flags]\n\n%s\n\nflags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and refuses positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}
