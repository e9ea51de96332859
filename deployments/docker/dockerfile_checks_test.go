package docker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"xii/deployments/system"
)

// runtimeBase is the image every service runs on: CA certificates and
// tzdata, no shell, user nonroot (65532).
const runtimeBase = "gcr.io/distroless/static-debian12:nonroot"

// entrypoint is where the image puts the service binary.
const entrypoint = "/usr/local/bin/xii"

// TestDockerfile checks the Dockerfile's text: it builds with `make
// build`'s command, copies every workspace module into the download layer,
// and runs as non-root on the static base with a shell-less HEALTHCHECK.
func TestDockerfile(t *testing.T) {
	root := system.Root(t)
	ins := parseDockerfile(t, dockerfilePath(t))
	st := stages(ins)
	if len(st) != 2 {
		t.Fatalf("Dockerfile has %d stages, want 2 (build, runtime)", len(st))
	}

	t.Run("build command is make build's", func(t *testing.T) {
		line := buildCommand(t, ins)
		makeLine := system.MakeBuildCommand(t, root, map[string]string{"VERSION": "v0.0.1", "BIN": "bin"})
		for _, svc := range system.Services {
			got, err := system.Eval(line, map[string]string{"SERVICE": svc, "VERSION": "v0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			want, err := system.Eval(makeLine, map[string]string{"svc": svc})
			if err != nil {
				t.Fatal(err)
			}
			// Only where the binary goes may differ.
			got, want = got.WithOutputDir("out"), want.WithOutputDir("out")
			if !slices.Equal(got.Env, want.Env) || !slices.Equal(got.Args, want.Args) {
				t.Errorf("%s: the Dockerfile runs\n\t%q %q\nmake build runs\n\t%q %q", svc, got.Env, got.Args, want.Env, want.Args)
			}
		}
	})

	t.Run("builder Go matches go.work", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(root, "go.work"))
		if err != nil {
			t.Fatal(err)
		}
		goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(b)
		arg := regexp.MustCompile(`(?m)^GO_VERSION=(\d+\.\d+)\.\d+$`)
		var builder string
		for _, in := range ins {
			if in.cmd == "ARG" {
				if m := arg.FindStringSubmatch(in.args); m != nil {
					builder = m[1]
				}
			}
		}
		if goLine == nil || builder != string(goLine[1]) {
			t.Errorf("builder image Go %q, go.work wants go %q", builder, goLine)
		}
	})

	t.Run("download layer copies every workspace module", func(t *testing.T) {
		copied := map[string]bool{}
		for _, in := range st[0] {
			if in.cmd == "RUN" && strings.Contains(in.args, "go mod download") {
				break
			}
			if in.cmd == "COPY" {
				f := strings.Fields(in.args)
				for _, src := range f[:len(f)-1] {
					copied[filepath.Clean(src)] = true
				}
			}
		}
		need := []string{"go.work", "go.work.sum"}
		for _, dir := range workspaceModules(t, root) {
			need = append(need, filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
		}
		for _, f := range need {
			if !copied[f] {
				t.Errorf("the layer before `go mod download` does not COPY %s", f)
			}
		}
	})

	t.Run("runtime stage", func(t *testing.T) {
		rt := st[1]
		if got := rt[0].args; got != runtimeBase {
			t.Errorf("runtime FROM %q, want %q", got, runtimeBase)
		}
		byCmd := map[string][]string{}
		for _, in := range rt {
			byCmd[in.cmd] = append(byCmd[in.cmd], in.args)
		}
		if u := byCmd["USER"]; len(u) != 1 || !strings.HasPrefix(u[0], "nonroot") && !strings.HasPrefix(u[0], "65532") {
			t.Errorf("USER %q, want nonroot", u)
		}
		if e := byCmd["EXPOSE"]; !slices.Equal(e, []string{"${PORT}"}) {
			t.Errorf("EXPOSE %q, want the PORT build argument", e)
		}
		if c := byCmd["COPY"]; len(c) != 1 || !strings.HasSuffix(c[0], " "+entrypoint) || !strings.Contains(c[0], "--from=build") {
			t.Errorf("COPY %q, want the binary from the build stage at %s", c, entrypoint)
		}
		var ep []string
		if e := byCmd["ENTRYPOINT"]; len(e) != 1 || json.Unmarshal([]byte(e[0]), &ep) != nil || !slices.Equal(ep, []string{entrypoint}) {
			t.Errorf("ENTRYPOINT %q, want exec form [%q]", e, entrypoint)
		}
		hc := byCmd["HEALTHCHECK"]
		if len(hc) != 1 {
			t.Fatalf("HEALTHCHECK %q, want one", hc)
		}
		_, execForm, ok := strings.Cut(hc[0], "CMD ")
		var probe []string
		if !ok || json.Unmarshal([]byte(execForm), &probe) != nil || !slices.Equal(probe, []string{entrypoint, "healthcheck"}) {
			t.Errorf("HEALTHCHECK %q, want exec form CMD [%q, \"healthcheck\"] (no shell in the image)", hc[0], entrypoint)
		}
		if r := byCmd["RUN"]; len(r) > 0 {
			t.Errorf("runtime stage RUNs %q; the base has no shell", r)
		}
	})
}
