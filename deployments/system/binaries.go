package system

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"xii/libs/launch"
)

// Services are the xii service commands, each at ./<name>/cmd/<name>.
var Services = []string{"survey-svc", "aggregator-svc", "dashboard-svc"}

// Root returns the repository root, the workspace's (launch.Root), or
// fails tb.
func Root(tb testing.TB) string {
	tb.Helper()
	root, err := launch.Root(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// BuildServices builds every service of the workspace at root into dir
// and returns each binary's path by service name.
func BuildServices(ctx context.Context, root, dir string) (map[string]string, error) {
	bins := make(map[string]string, len(Services))
	for _, svc := range Services {
		bin, err := launch.Build(ctx, root, dir, "xii/"+svc+"/cmd/"+svc)
		if err != nil {
			return nil, err
		}
		bins[svc] = bin
	}
	return bins, nil
}

// Flag is one command-line flag of a service, as its -h shows it.
type Flag struct {
	Name    string // e.g. listen-addr
	Env     string // the environment variable that sets it, e.g. XII_LISTEN_ADDR
	Default string // the default as -h prints it, unquoted; "" if none is shown
}

// BuildAsMake runs cmd, the Makefile's build command already evaluated for
// one service (MakeBuildCommand, Eval), in dir (the repository root or a
// copy of an image's build context), with its output redirected into
// outDir.
func BuildAsMake(dir, outDir string, cmd Command) error {
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

// Flags runs the service binary bin with -h, after the subcommand args if
// any, and returns its flags by environment variable name.
func Flags(tb testing.TB, bin string, args ...string) map[string]Flag {
	tb.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, append(args, "-h")...)
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
