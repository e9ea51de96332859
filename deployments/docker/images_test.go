package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"xii/deployments/system"
)

// jaegerV2Offset: Jaeger releases v1.N (the Go module) and v2.(N-63) (the
// binary and image) together, v1.63.0 with v2.0.0.
const jaegerV2Offset = 63

// checkImages pins the third-party images to the versions the tests run:
// etcd as the etcdctl tool module and the embedded test server, Jaeger as
// the module observability/jaeger builds.
func checkImages(t *testing.T, p *types.Project) {
	root := system.Root(t)
	etcd := moduleVersion(t, filepath.Join(root, "deployments", "etcdctl", "go.mod"), `go.etcd.io/etcd/etcdctl/v3`)
	if want := "quay.io/coreos/etcd:" + etcd; p.Services["etcd"].Image != want {
		t.Errorf("etcd image %q, want %q (the etcdctl module's version)", p.Services["etcd"].Image, want)
	}
	jv := moduleVersion(t, filepath.Join(root, "observability", "jaeger", "go.mod"), `github.com/jaegertracing/jaeger`)
	m := regexp.MustCompile(`^v1\.(\d+)\.(\d+)$`).FindStringSubmatch(jv)
	if m == nil {
		t.Fatalf("jaeger module version %q is not v1.N.P", jv)
	}
	minor, _ := strconv.Atoi(m[1])
	if want := fmt.Sprintf("jaegertracing/jaeger:2.%d.%s", minor-jaegerV2Offset, m[2]); p.Services["jaeger"].Image != want {
		t.Errorf("jaeger image %q, want %q (released with module %s)", p.Services["jaeger"].Image, want, jv)
	}
}

// moduleVersion returns the version go.mod at path requires of module.
func moduleVersion(t *testing.T, path, module string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s requires no %s", path, module)
	}
	return string(m[1])
}
