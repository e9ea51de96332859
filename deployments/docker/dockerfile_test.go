package docker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xii/deployments/system"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

func parseDockerfile(tb testing.TB, path string) []instruction {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if t := strings.TrimSpace(line); cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// stages splits instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func dockerfilePath(tb testing.TB) string {
	return filepath.Join(system.Root(tb), "deployments", "docker", "Dockerfile")
}

// buildCommand returns the shell line of the Dockerfile's go build RUN,
// without RUN's own --mount options.
func buildCommand(tb testing.TB, ins []instruction) string {
	tb.Helper()
	for _, in := range ins {
		if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		line := in.args
		for strings.HasPrefix(line, "--") {
			_, line, _ = strings.Cut(line, " ")
			line = strings.TrimSpace(line)
		}
		return line
	}
	tb.Fatal("Dockerfile: no RUN with go build")
	return ""
}

// workspaceModules returns the directories go.work uses.
func workspaceModules(tb testing.TB, root string) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		tb.Fatal(err)
	}
	var dirs []string
	inUse := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "use ("):
			inUse = true
		case inUse && line == ")":
			inUse = false
		case inUse && line != "" && !strings.HasPrefix(line, "//"):
			dirs = append(dirs, filepath.Clean(line))
		case strings.HasPrefix(line, "use "):
			dirs = append(dirs, filepath.Clean(strings.TrimSpace(strings.TrimPrefix(line, "use "))))
		}
	}
	if len(dirs) == 0 {
		tb.Fatal("go.work uses no module")
	}
	return dirs
}
