package launch

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles the Go command package pkg (an import path such as
// "xii/survey-svc/cmd/survey-svc") from the workspace rooted at root into
// dir, and returns the binary's path.
func Build(ctx context.Context, root, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// Root returns the workspace root: the directory holding go.work, found
// from the current directory upwards.
func Root(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("find workspace: %w", err)
	}
	work := strings.TrimSpace(string(b))
	if work == "" || work == "off" {
		return "", fmt.Errorf("find workspace: not inside the xii workspace (go env GOWORK is %q)", work)
	}
	return filepath.Dir(work), nil
}
