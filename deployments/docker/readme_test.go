package docker

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"xii/deployments/system"
)

// TestReadmeRunWithDocker checks the README's "Run with Docker" section
// against the compose file: the services its commands name exist, the
// ports it uses are published, and the image versions it states are the
// ones that run.
func TestReadmeRunWithDocker(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(system.Root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Run with Docker\n")
	if !ok {
		t.Fatal(`README.md has no "## Run with Docker" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	p := loadCompose(t)
	green := loadComposeText(t, uncommentGreen(t))

	// etcd has authentication on: the tuning command logs in as the
	// operator, with the password etcd-access gives it.
	operator := ""
	if v := p.Services["etcd-access"].Environment["XII_ETCD_OPERATOR_PASSWORD"]; v != nil {
		operator = *v
	}
	for _, want := range []string{
		"docker compose up -d --wait",
		"docker compose exec etcd etcdctl --user=operator:" + operator + " put /xii/config/aggregator/fetch_timeout 500ms",
		"survey-green",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the section does not say %q", want)
		}
	}
	for _, m := range regexp.MustCompile("docker compose (?:exec|logs -f|up -d --wait) ([a-z0-9-]+)").FindAllStringSubmatch(section, -1) {
		if _, ok := green.Services[m[1]]; !ok {
			t.Errorf("the section names service %q, which compose.yaml does not define", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`(?:localhost|127\.0\.0\.1):(\d+)|\(:(\d+)\)|on :(\d+)`).FindAllStringSubmatch(section, -1) {
		port := m[1] + m[2] + m[3]
		if !published(green, port) {
			t.Errorf("the section uses port %s, which compose.yaml does not publish", port)
		}
	}
	for _, svc := range []string{"postgres", "etcd", "jaeger"} {
		image := p.Services[svc].Image
		version := image[strings.LastIndex(image, ":")+1:]
		if !strings.Contains(section, version) {
			t.Errorf("the section does not state %s's version %s (image %s)", svc, version, image)
		}
	}
}

func published(p *types.Project, port string) bool {
	for _, s := range p.Services {
		for _, pc := range s.Ports {
			if pc.Published == port {
				return true
			}
		}
	}
	return false
}
