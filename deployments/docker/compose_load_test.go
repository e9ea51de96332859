package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"xii/deployments/system"
)

// loadCompose loads the root compose.yaml, which includes
// deployments/docker/compose.yaml, as `docker compose` does from the
// repository root: schema-validated, interpolated with an empty
// environment (so defaults apply), paths resolved.
func loadCompose(tb testing.TB) *types.Project {
	tb.Helper()
	root := system.Root(tb)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(nil),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		tb.Fatalf("load compose.yaml: %v", err)
	}
	return p
}

// loadComposeText loads the compose file's text as if it were
// deployments/docker/compose.yaml itself.
func loadComposeText(tb testing.TB, text string) *types.Project {
	tb.Helper()
	dir := filepath.Join(system.Root(tb), "deployments", "docker")
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml"), Content: []byte(text)}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("xii", true) })
	if err != nil {
		tb.Fatalf("load edited compose.yaml: %v", err)
	}
	return p
}

// uncommentGreen returns the compose file with its commented-out
// survey-green block switched on: the documented way to add an instance.
func uncommentGreen(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(system.Root(tb), "deployments", "docker", "compose.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var out strings.Builder
	in := false
	found := false
	for line := range strings.Lines(string(b)) {
		switch {
		case strings.HasPrefix(line, "  # survey-green:"):
			in, found = true, true
		case in && !strings.HasPrefix(line, "  #"):
			in = false
		}
		if in {
			line = "  " + strings.TrimPrefix(line, "  # ")
		}
		out.WriteString(line)
	}
	if !found {
		tb.Fatal("compose.yaml has no commented-out survey-green block")
	}
	return out.String()
}
