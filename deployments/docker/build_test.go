package docker

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"xii/deployments/system"
)

// replayBuild does what `docker build` does with the Dockerfile, minus the
// container: it copies the build context as .dockerignore filters it, checks
// that the files the module-download layer copies are enough for `go mod
// download`, and runs the Dockerfile's own build command in the copy. It
// returns the directory of the binaries.
func replayBuild(tb testing.TB, dir string) (string, error) {
	root := system.Root(tb)
	ins := parseDockerfile(tb, dockerfilePath(tb))
	ctx := filepath.Join(dir, "context")
	if err := copyContext(root, ctx); err != nil {
		return "", err
	}

	// The download layer: only the files COPY'd before `RUN go mod download`.
	layer := filepath.Join(dir, "download-layer")
	for _, in := range stages(ins)[0] {
		if in.cmd == "RUN" && strings.Contains(in.args, "go mod download") {
			break
		}
		if in.cmd != "COPY" {
			continue
		}
		srcs := strings.Fields(in.args)
		for _, src := range srcs[:len(srcs)-1] {
			if err := copyFile(filepath.Join(ctx, src), filepath.Join(layer, src)); err != nil {
				return "", fmt.Errorf("download layer: COPY %s: %w", src, err)
			}
		}
	}
	cmd := exec.Command("go", "mod", "download")
	cmd.Dir = layer
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go mod download with only the download layer's files: %w\n%s", err, out)
	}

	bin := filepath.Join(dir, "bin")
	line := buildCommand(tb, ins)
	for _, svc := range system.Services {
		cmd, err := system.Eval(line, map[string]string{"SERVICE": svc, "VERSION": imageVersion})
		if err != nil {
			return "", err
		}
		if err := system.BuildAsMake(ctx, bin, cmd); err != nil {
			return "", fmt.Errorf("the Dockerfile's build command in its build context: %w", err)
		}
	}
	return bin, nil
}

// copyContext copies root to dst without what .dockerignore excludes.
func copyContext(root, dst string) error {
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		return err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		switch {
		case excluded && d.IsDir() && !pm.Exclusions():
			return filepath.SkipDir
		case excluded || d.IsDir():
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestImageBuild checks what the image build produces: the build context
// is small, every service builds from it, each binary is static (it runs
// on a base without libc), carries the VERSION build argument, and answers
// the healthcheck subcommand the HEALTHCHECK runs.
func TestImageBuild(t *testing.T) {
	bin := imageBinaries(t)
	t.Run("context", func(t *testing.T) {
		var size int64
		ctx := filepath.Join(scratch, "image", "context")
		err := filepath.WalkDir(ctx, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(ctx, path)
			for _, banned := range []string{".git/", "bin/", ".xii-local/", "deployments/k8s/"} {
				if strings.HasPrefix(filepath.ToSlash(rel)+"/", banned) || strings.HasPrefix(filepath.ToSlash(rel), banned) {
					t.Errorf("build context holds %s", rel)
				}
			}
			info, err := d.Info()
			size += info.Size()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if size > 16<<20 {
			t.Errorf("build context is %d MiB; .dockerignore should keep it small", size>>20)
		}
	})
	for _, svc := range system.Services {
		t.Run(svc, func(t *testing.T) {
			path := filepath.Join(bin, svc)
			if err := checkStatic(path); err != nil {
				t.Error(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(imageVersion)) {
				t.Errorf("%s does not carry the VERSION build argument %q (-X main.version)", svc, imageVersion)
			}
			checkHealthcheckCommand(t, path)
		})
	}
}

// checkStatic fails for a dynamically linked executable.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return fmt.Errorf("%s is dynamically linked; the distroless static base has no libc", filepath.Base(path))
		}
	}
	return nil
}

// checkHealthcheckCommand runs `<bin> healthcheck` as the image's
// HEALTHCHECK does, against a server that is healthy and one that is gone.
func checkHealthcheckCommand(t *testing.T, bin string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"status":"ok"}`)
	}))
	addr := srv.Listener.Addr().String()
	run := func(env []string, args ...string) int {
		cmd := exec.Command(bin, append([]string{"healthcheck"}, args...)...)
		cmd.Env = env
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	if got := run([]string{"XII_LISTEN_ADDR=" + addr}); got != 0 {
		t.Errorf("healthcheck with XII_LISTEN_ADDR of a healthy server: exit %d, want 0", got)
	}
	if got := run(nil, "-url", srv.URL+"/readyz"); got != 1 {
		t.Errorf("healthcheck of a 404: exit %d, want 1", got)
	}
	srv.Close()
	if got := run([]string{"XII_LISTEN_ADDR=" + addr}); got != 1 {
		t.Errorf("healthcheck with nothing listening: exit %d, want 1", got)
	}
}
