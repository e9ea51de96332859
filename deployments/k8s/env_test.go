package k8s

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"xii/deployments/system"
)

// otelEnv are the OpenTelemetry SDK variables the services may be given.
var otelEnv = []string{
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_BSP_SCHEDULE_DELAY",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
}

var dependentRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// listenPort is the port a container of service svc listens on: its
// XII_LISTEN_ADDR, else the service's default.
func listenPort(t *testing.T, svc string, c corev1.Container) string {
	t.Helper()
	addr := flagsOf(t, svc)["XII_LISTEN_ADDR"].Default
	for _, e := range c.Env {
		if e.Name == "XII_LISTEN_ADDR" {
			addr = e.Value
		}
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: listen address %q: %v", c.Name, addr, err)
	}
	return port
}

// checkEnvironment checks that every variable given to an xii container,
// directly or through envFrom, is one of its flags or a known OTEL_*
// variable. A helper variable (POD_IP) is allowed only if another
// variable uses it as $(POD_IP).
func checkEnvironment(t *testing.T, o objects) {
	names := map[string]string{}
	for _, w := range o.workloads() {
		for _, c := range w.tmpl.Spec.Containers {
			svc, mine := ours(c)
			if !mine || w.kind == "Job" { // the etcd-access job: checkEtcdAccess
				continue
			}
			flags := flagsOf(t, svc)
			used := map[string]bool{}
			for _, e := range c.Env {
				for _, m := range dependentRef.FindAllStringSubmatch(e.Value, -1) {
					used[m[1]] = true
				}
			}
			given := map[string]bool{}
			for _, e := range c.Env {
				given[e.Name] = true
				if _, ok := flags[e.Name]; !ok && !slices.Contains(otelEnv, e.Name) && !used[e.Name] {
					t.Errorf("%s %s: %s is neither a flag of %s, a known OTEL_* variable, nor used by another variable", w.kind, w.name, e.Name, svc)
				}
				if e.Name == "XII_NAME" {
					if other, dup := names[e.Value]; dup {
						t.Errorf("%s and %s are both provider %q", other, w.name, e.Value)
					}
					names[e.Value] = w.name
				}
			}
			for _, from := range c.EnvFrom {
				if from.ConfigMapRef == nil {
					t.Errorf("%s %s: envFrom other than a ConfigMap", w.kind, w.name)
					continue
				}
				for _, cm := range o.configMaps {
					if cm.Name != from.ConfigMapRef.Name {
						continue
					}
					for k := range cm.Data {
						given[k] = true
						if _, ok := flags[k]; !ok && !slices.Contains(otelEnv, k) {
							t.Errorf("%s %s: ConfigMap %s gives %s, which is not a flag of %s", w.kind, w.name, cm.Name, k, svc)
						}
					}
				}
			}
			for _, need := range []string{"XII_ETCD_ENDPOINTS", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"} {
				if !given[need] {
					t.Errorf("%s %s: %s is not set", w.kind, w.name, need)
				}
			}
			if svc != "dashboard-svc" && !given["XII_POSTGRES_URL"] {
				t.Errorf("%s %s: XII_POSTGRES_URL is not set", w.kind, w.name)
			}
		}
	}
}

// checkReferences checks that every ConfigMap and Secret a container reads,
// by variable or volume, is rendered with the key it reads, or is one the
// overlay expects to be created outside it; and that the overlay's
// kustomization.yaml, which tells the operator what to create, names every
// such Secret and key.
func checkReferences(t *testing.T, o objects, dir string, external []string) {
	b, err := os.ReadFile(filepath.Join(system.Root(t), "deployments", "k8s", dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	documented := string(b)
	secretKey := func(where, secret, key string, optional bool) {
		if slices.Contains(external, secret) {
			if !mentions(documented, secret) || key != "" && !mentions(documented, key) {
				t.Errorf("%s reads Secret %s key %q, which %s/kustomization.yaml does not ask for", where, secret, key, dir)
			}
			return
		}
		s, ok := o.secret(secret)
		_, hasKey := s.Data[key]
		if _, hasString := s.StringData[key]; hasString || key == "" {
			hasKey = true
		}
		if (!ok || !hasKey) && !optional {
			t.Errorf("%s reads Secret %s key %s, which is not here", where, secret, key)
		}
	}
	for _, w := range o.workloads() {
		pod := w.tmpl.Spec
		for _, c := range append(pod.InitContainers, pod.Containers...) {
			for _, e := range c.Env {
				where := fmt.Sprintf("%s %s: %s", w.kind, w.name, e.Name)
				switch {
				case e.ValueFrom == nil:
				case e.ValueFrom.SecretKeyRef != nil:
					ref := e.ValueFrom.SecretKeyRef
					secretKey(where, ref.Name, ref.Key, deref(ref.Optional, false))
				case e.ValueFrom.ConfigMapKeyRef != nil:
					ref := e.ValueFrom.ConfigMapKeyRef
					cm, ok := o.configMap(ref.Name)
					if _, has := cm.Data[ref.Key]; (!ok || !has) && !deref(ref.Optional, false) {
						t.Errorf("%s reads ConfigMap %s key %s, which is not here", where, ref.Name, ref.Key)
					}
				}
			}
			for _, from := range c.EnvFrom {
				if from.ConfigMapRef != nil && !slices.ContainsFunc(o.configMaps, func(cm corev1.ConfigMap) bool { return cm.Name == from.ConfigMapRef.Name }) {
					t.Errorf("%s %s: envFrom ConfigMap %s is not here", w.kind, w.name, from.ConfigMapRef.Name)
				}
			}
		}
		for _, v := range pod.Volumes {
			if v.Secret == nil {
				continue
			}
			where := fmt.Sprintf("%s %s: volume %s", w.kind, w.name, v.Name)
			optional := deref(v.Secret.Optional, false)
			if len(v.Secret.Items) == 0 {
				secretKey(where, v.Secret.SecretName, "", optional)
			}
			for _, item := range v.Secret.Items {
				secretKey(where, v.Secret.SecretName, item.Key, optional)
			}
		}
	}
}

// mentions reports whether text has word, delimited by neither a letter, a
// digit, '-', '.' nor '_' on either side.
func mentions(text, word string) bool {
	return regexp.MustCompile(`(^|[^\w.-])` + regexp.QuoteMeta(word) + `($|[^\w.-])`).MatchString(text)
}

// checkImages checks the third-party images are the ones the compose file
// runs, so one version of each is tested and documented.
func checkImages(t *testing.T, o objects) {
	b, err := os.ReadFile(filepath.Join(system.Root(t), "deployments", "docker", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var composeImages []string
	for _, m := range regexp.MustCompile(`(?m)^\s+image:\s*(\S+)`).FindAllStringSubmatch(string(b), -1) {
		composeImages = append(composeImages, m[1])
	}
	for _, w := range o.workloads() {
		for _, c := range w.tmpl.Spec.Containers {
			if _, mine := ours(c); mine {
				continue
			}
			if !slices.Contains(composeImages, c.Image) {
				t.Errorf("%s %s runs %s; compose runs %s", w.kind, w.name, c.Image, strings.Join(composeImages, ", "))
			}
		}
	}
}
