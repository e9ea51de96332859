package docker

import (
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"xii/deployments/system"
)

// specPorts are SPEC.md's ports, published on the host as they are.
var specPorts = map[string][]uint32{
	"dashboard":   {1100},
	"survey-blue": {1101},
	"survey-red":  {1102},
	"aggregator":  {1110},
	"postgres":    {5432},
	"etcd":        {2379},
	"jaeger":      {16686, 4317, 4318},
}

// otelEnv are the OpenTelemetry SDK variables the services may be given;
// every other variable must be one of the service's own flags.
var otelEnv = []string{
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_BSP_SCHEDULE_DELAY",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
}

// jobs are the one-shot services, by name, with the binary and subcommand
// they run: they finish before the services that depend on them start.
var jobs = map[string][2]string{
	"etcd-access": {"aggregator-svc", "etcd-access"},
}

// TestCompose checks the compose file as shipped.
func TestCompose(t *testing.T) {
	p := loadCompose(t)
	got, want := p.ServiceNames(), append(mapsKeys(specPorts), mapsKeys(jobs)...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("services %q, want %q", got, want)
	}
	checkProject(t, p)
}

// TestComposeThirdInstance switches on the commented-out survey-green
// block, as the README tells, and checks the result the same way.
func TestComposeThirdInstance(t *testing.T) {
	p := loadComposeText(t, uncommentGreen(t))
	green, ok := p.Services["survey-green"]
	if !ok {
		t.Fatal("no survey-green after uncommenting its block")
	}
	if green.Environment["XII_NAME"] == nil || *green.Environment["XII_NAME"] != "green" {
		t.Errorf("survey-green XII_NAME = %v", green.Environment["XII_NAME"])
	}
	checkProject(t, p)
}

// mapsKeys returns m's keys in order.
func mapsKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// xiiService is a compose service built from the Dockerfile, with the
// service binary (SERVICE build argument) it runs.
type xiiService struct {
	types.ServiceConfig
	binary string
}

func xiiServices(p *types.Project) []xiiService {
	var out []xiiService
	for _, name := range mapsKeys(p.Services) {
		s := p.Services[name]
		if _, job := jobs[name]; s.Build != nil && !job {
			bin := ""
			if v := s.Build.Args["SERVICE"]; v != nil {
				bin = *v
			}
			out = append(out, xiiService{s, bin})
		}
	}
	return out
}

func checkProject(t *testing.T, p *types.Project) {
	t.Run("ports", func(t *testing.T) { checkPorts(t, p) })
	t.Run("healthchecks", func(t *testing.T) { checkHealthchecks(t, p) })
	t.Run("depends_on waits for health", func(t *testing.T) { checkDependsOn(t, p) })
	t.Run("restart and hardening", func(t *testing.T) { checkHardening(t, p) })
	t.Run("builds", func(t *testing.T) { checkBuilds(t, p) })
	t.Run("environment", func(t *testing.T) { checkEnvironment(t, p) })
	t.Run("etcd access", func(t *testing.T) { checkEtcdAccess(t, p) })
	t.Run("data volumes", func(t *testing.T) { checkVolumes(t, p) })
	t.Run("images", func(t *testing.T) { checkImages(t, p) })
}

func checkPorts(t *testing.T, p *types.Project) {
	seen := map[string]string{}
	for name, s := range p.Services {
		var got []uint32
		for _, port := range s.Ports {
			got = append(got, port.Target)
			if port.Published != strconv.Itoa(int(port.Target)) {
				t.Errorf("%s publishes container port %d on host port %s; they should be equal", name, port.Target, port.Published)
			}
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %d on %q, want 127.0.0.1", name, port.Target, port.HostIP)
			}
			if other, dup := seen[port.Published]; dup {
				t.Errorf("host port %s published by %s and %s", port.Published, other, name)
			}
			seen[port.Published] = name
		}
		if want, inSpec := specPorts[name]; inSpec && !slices.Equal(got, want) {
			t.Errorf("%s publishes %v, SPEC.md says %v", name, got, want)
		}
	}
}

func checkHealthchecks(t *testing.T, p *types.Project) {
	for name, s := range p.Services {
		hc := s.HealthCheck
		if _, job := jobs[name]; job {
			if hc == nil || !hc.Disable {
				t.Errorf("%s: a one-shot job with a healthcheck %+v; want it disabled", name, hc)
			}
			continue
		}
		if hc == nil || hc.Disable || len(hc.Test) < 2 || hc.Test[0] != "CMD" {
			t.Errorf("%s: healthcheck %+v, want an exec-form (CMD) test", name, hc)
			continue
		}
		if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil {
			t.Errorf("%s: healthcheck without interval, timeout or retries", name)
		}
	}
	for _, s := range xiiServices(p) {
		port := listenPort(t, s)
		want := []string{"CMD", entrypoint, "healthcheck", "-url", "http://127.0.0.1:" + port + "/readyz"}
		if got := []string(s.HealthCheck.Test); !slices.Equal(got, want) {
			t.Errorf("%s: healthcheck %q, want %q", s.Name, got, want)
		}
	}
}

func checkDependsOn(t *testing.T, p *types.Project) {
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			if _, job := jobs[dep]; job {
				if d.Condition != types.ServiceConditionCompletedSuccessfully {
					t.Errorf("%s depends on job %s with condition %q, want %s", name, dep, d.Condition, types.ServiceConditionCompletedSuccessfully)
				}
				continue
			}
			if d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s depends on %s with condition %q, want %s", name, dep, d.Condition, types.ServiceConditionHealthy)
			}
			if target, ok := p.Services[dep]; !ok || target.HealthCheck == nil {
				t.Errorf("%s depends on %s, which has no healthcheck", name, dep)
			}
		}
	}
	// What each service cannot start without.
	for _, s := range xiiServices(p) {
		need := []string{"etcd", "etcd-access", "jaeger"}
		if s.binary != "dashboard-svc" {
			need = append(need, "postgres")
		}
		for _, dep := range need {
			if _, ok := s.DependsOn[dep]; !ok {
				t.Errorf("%s does not wait for %s", s.Name, dep)
			}
		}
	}
}

func checkHardening(t *testing.T, p *types.Project) {
	for name, s := range p.Services {
		want := types.RestartPolicyUnlessStopped
		if _, job := jobs[name]; job {
			want = types.RestartPolicyOnFailure
		}
		if s.Restart != want {
			t.Errorf("%s: restart %q, want %s", name, s.Restart, want)
		}
	}
	for _, s := range append(xiiServices(p), jobServices(p)...) {
		if !s.ReadOnly {
			t.Errorf("%s: root filesystem not read-only", s.Name)
		}
		if !slices.Equal(s.CapDrop, []string{"ALL"}) {
			t.Errorf("%s: cap_drop %q, want [ALL]", s.Name, s.CapDrop)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: security_opt %q lacks no-new-privileges:true", s.Name, s.SecurityOpt)
		}
	}
}

// jobServices are the jobs as xiiServices, built from the Dockerfile.
func jobServices(p *types.Project) []xiiService {
	var out []xiiService
	for _, name := range mapsKeys(jobs) {
		if s, ok := p.Services[name]; ok {
			out = append(out, xiiService{s, jobs[name][0]})
		}
	}
	return out
}

func checkBuilds(t *testing.T, p *types.Project) {
	root := system.Root(t)
	for _, s := range append(xiiServices(p), jobServices(p)...) {
		if s.Build == nil {
			t.Errorf("%s: not built from the Dockerfile", s.Name)
			continue
		}
		b := s.Build
		if filepath.Clean(b.Context) != root {
			t.Errorf("%s: build context %s, want the repository root", s.Name, b.Context)
		}
		df := b.Dockerfile
		if !filepath.IsAbs(df) {
			df = filepath.Join(b.Context, df)
		}
		if df != dockerfilePath(t) {
			t.Errorf("%s: dockerfile %s, want %s", s.Name, df, dockerfilePath(t))
		}
		if !slices.Contains(system.Services, s.binary) {
			t.Errorf("%s: build argument SERVICE=%q is no service", s.Name, s.binary)
			continue
		}
		if port := b.Args["PORT"]; port == nil || *port != defaultPort(t, s.binary) {
			t.Errorf("%s: build argument PORT=%v, want %s's default port %s", s.Name, port, s.binary, defaultPort(t, s.binary))
		}
		if !strings.HasPrefix(s.Image, "xii/"+s.binary+":") {
			t.Errorf("%s: image %q, want xii/%s:<version>", s.Name, s.Image, s.binary)
		}
	}
}

// defaultPort is the port of the service's default listen address.
func defaultPort(t *testing.T, binary string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(flagsOf(t, binary)["XII_LISTEN_ADDR"].Default)
	if err != nil {
		t.Fatalf("%s: default listen address: %v", binary, err)
	}
	return port
}

// listenPort is the port a compose service listens on: its XII_LISTEN_ADDR,
// else its binary's default.
func listenPort(t *testing.T, s xiiService) string {
	t.Helper()
	if v := s.Environment["XII_LISTEN_ADDR"]; v != nil {
		_, port, err := net.SplitHostPort(*v)
		if err != nil {
			t.Fatalf("%s: XII_LISTEN_ADDR: %v", s.Name, err)
		}
		return port
	}
	return defaultPort(t, s.binary)
}

func checkVolumes(t *testing.T, p *types.Project) {
	want := map[string]string{"postgres": "/var/lib/postgresql/data", "etcd": "/var/lib/etcd"}
	for svc, target := range want {
		s := p.Services[svc]
		if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
			_, declared := p.Volumes[v.Source]
			return v.Type == types.VolumeTypeVolume && declared && v.Target == target
		}) {
			t.Errorf("%s: no named volume at %s", svc, target)
		}
	}
	if cmd := strings.Join(p.Services["etcd"].Command, " "); !strings.Contains(cmd, "--data-dir="+want["etcd"]+"/") {
		t.Errorf("etcd command %q does not keep its data under the volume %s", cmd, want["etcd"])
	}
}
