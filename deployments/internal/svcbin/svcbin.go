// Package svcbin builds the xii service binaries with the command `make
// build` uses and reads what their command lines accept. The deployment
// tests check compose files and Kubernetes manifests against the programs
// themselves, never against a copy of their flags, and the deployments
// module imports no service code.
package svcbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Services are the xii service commands, each at ./<name>/cmd/<name>.
var Services = []string{"survey-svc", "aggregator-svc", "dashboard-svc"}

// Root returns the repository root: the nearest directory above the
// working directory that holds go.work.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.work above the working directory")
		}
		dir = parent
	}
}

// Flag is one command-line flag of a service, as its -h shows it.
type Flag struct {
	Name    string // e.g. listen-addr
	Env     string // the environment variable that sets it, e.g. XII_LISTEN_ADDR
	Default string // the default as -h prints it, unquoted; "" if none is shown
}

// Build runs cmd, a build command already evaluated for one service, in
// dir (the repository root or a copy of an image's build context), with its
// output redirected into outDir.
func Build(dir, outDir string, cmd Command) error {
	cmd = cmd.WithOutputDir(outDir)
	c := exec.Command(cmd.Args[0], cmd.Args[1:]...)
	c.Dir, c.Env = dir, append(os.Environ(), cmd.Env...)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return nil
}

var (
	flagLine    = regexp.MustCompile(`^  -([a-z0-9-]+)`)
	envNote     = regexp.MustCompile(`\(env ([A-Z0-9_]+)\)`)
	defaultNote = regexp.MustCompile(`\(default "?(.*?)"?\)\s*$`)
)

// Flags runs the service binary bin with -h and returns its flags by
// environment variable name.
func Flags(tb testing.TB, bin string) map[string]Flag {
	tb.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, "-h")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = []string{} // the usage must not depend on this process's XII_* variables
	_ = cmd.Run()        // -h exits non-zero after printing the usage
	flags := map[string]Flag{}
	var cur *Flag
	for line := range strings.Lines(out.String()) {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			if cur != nil {
				flags[cur.Env] = *cur
			}
			cur = &Flag{Name: m[1]}
		}
		if cur == nil {
			continue
		}
		if m := envNote.FindStringSubmatch(line); m != nil {
			cur.Env = m[1]
		}
		if m := defaultNote.FindStringSubmatch(line); m != nil {
			cur.Default = m[1]
		}
	}
	if cur != nil {
		flags[cur.Env] = *cur
	}
	if len(flags) == 0 {
		tb.Fatalf("%s -h listed no flags:\n%s", bin, out.String())
	}
	for env, f := range flags {
		if env == "" {
			tb.Fatalf("%s -h: flag -%s names no environment variable", bin, f.Name)
		}
	}
	return flags
}
