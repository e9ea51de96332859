// Package envflag gives every flag an environment default: flag
// "postgres-url" of a service with prefix "XII" reads XII_POSTGRES_URL when
// it is not on the command line. Command-line flags win over the environment,
// which wins over the flag's default.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// Name returns the environment variable for flag name under prefix.
func Name(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args into fs, then sets each flag not given in args from its
// environment variable, if that is set. lookup is os.LookupEnv when nil.
// An invalid environment value is an error naming the variable.
func Parse(fs *flag.FlagSet, prefix string, args []string, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, Name(prefix, f.Name))
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		env := Name(prefix, f.Name)
		if v, ok := lookup(env); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s: invalid value %q: %w", env, v, setErr)
			}
		}
	})
	return err
}

// Common are the values of the flags every xii service has.
type Common struct {
	// ShutdownTimeout is how long in-flight requests may take to finish
	// on shutdown.
	ShutdownTimeout time.Duration
	// LogLevel is the log level as given: debug, info, warn or error.
	LogLevel string
	// MaxConns caps the open connections of the service's listener; 0
	// means half the process's open-file limit.
	MaxConns int
	// MaxInFlight bounds the API requests served at once; past it they
	// are answered 503 with Retry-After. 0 turns the bound off.
	MaxInFlight int
	// PprofAddr is the loopback address of the net/http/pprof listener;
	// empty (the default) serves none.
	PprofAddr string
}

// DefaultMaxInFlight is the max-in-flight default; docs/measurements.md
// (§11) says how it was chosen.
const DefaultMaxInFlight = 1024

// ParseService defines the common flags on fs, next to the service's own,
// then parses args and the XII_ environment into fs (see Parse), refusing
// positional arguments.
func ParseService(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) (Common, error) {
	grace := fs.Duration("shutdown-timeout", 15*time.Second, "how long in-flight requests may take to finish on shutdown")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	maxConns := fs.Int("max-conns", 0, "most open connections at once; past it new ones get 503 (0: half the open-file limit)")
	maxInFlight := fs.Int("max-in-flight", DefaultMaxInFlight, "most API requests served at once; past it they get 503 with Retry-After (0: no bound)")
	pprofAddr := fs.String("pprof-addr", "", "loopback address (127.0.0.1:6060) to serve net/http/pprof on; empty: none")
	if err := Parse(fs, "XII", args, lookup); err != nil {
		return Common{}, err
	}
	if fs.NArg() > 0 {
		return Common{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *maxConns < 0 {
		return Common{}, fmt.Errorf("max-conns: %d is negative", *maxConns)
	}
	if *maxInFlight < 0 {
		return Common{}, fmt.Errorf("max-in-flight: %d is negative", *maxInFlight)
	}
	if *pprofAddr != "" {
		if err := loopback(*pprofAddr); err != nil {
			return Common{}, fmt.Errorf("pprof-addr: %w", err)
		}
	}
	return Common{ShutdownTimeout: *grace, LogLevel: *level, MaxConns: *maxConns, MaxInFlight: *maxInFlight, PprofAddr: *pprofAddr}, nil
}
