package k8s

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// overlays are the kustomizations to check, with the Secrets each expects
// to be created outside it, and whether etcd serves its clients TLS.
var overlays = []struct {
	dir             string
	externalSecrets []string
	etcdTLS         bool
}{
	{"overlays/demo", nil, false},
	{"overlays/production", []string{"xii-postgres", "xii-tokens", "xii-etcd", "xii-etcd-tls"}, true},
}

// TestOverlays renders every overlay and checks what it would create.
func TestOverlays(t *testing.T) {
	for _, ov := range overlays {
		t.Run(ov.dir, func(t *testing.T) {
			o := render(t, ov.dir)
			if t.Failed() {
				t.FailNow()
			}
			t.Run("selectors match pod labels", func(t *testing.T) { checkSelectors(t, o) })
			t.Run("containers have probes, limits and a locked-down context", func(t *testing.T) { checkContainers(t, o) })
			t.Run("services select pods and ports", func(t *testing.T) { checkServices(t, o) })
			t.Run("disruption budgets and autoscalers", func(t *testing.T) { checkAvailability(t, o) })
			t.Run("etcd cluster", func(t *testing.T) { checkEtcd(t, o) })
			t.Run("config and secret references", func(t *testing.T) { checkReferences(t, o, ov.dir, ov.externalSecrets) })
			t.Run("environment is the services' flags", func(t *testing.T) { checkEnvironment(t, o) })
			t.Run("third-party images as in compose", func(t *testing.T) { checkImages(t, o) })
			t.Run("only the dashboard reaches the aggregator", func(t *testing.T) { checkAggregatorPolicy(t, o) })
			t.Run("etcd access: a user per service, the job's passwords", func(t *testing.T) { checkEtcdAccess(t, o) })
			t.Run("etcd client TLS", func(t *testing.T) { checkEtcdTLS(t, o, ov.etcdTLS) })
			t.Run("only xii reaches etcd", func(t *testing.T) { checkEtcdPolicy(t, o) })
		})
	}
}

// podTemplate is a workload's pod template, named after the workload; a
// Job's too (kind "Job"), which runs to completion and has no probes.
type podTemplate struct {
	kind, name string
	replicas   int32
	tmpl       corev1.PodTemplateSpec
}

func (o objects) workloads() []podTemplate {
	var out []podTemplate
	for _, d := range o.deployments {
		out = append(out, podTemplate{"Deployment", d.Name, deref(d.Spec.Replicas, 1), d.Spec.Template})
	}
	for _, s := range o.statefulSets {
		out = append(out, podTemplate{"StatefulSet", s.Name, deref(s.Spec.Replicas, 1), s.Spec.Template})
	}
	for _, j := range o.jobs {
		out = append(out, podTemplate{"Job", j.Name, deref(j.Spec.Parallelism, 1), j.Spec.Template})
	}
	return out
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// ours reports whether a container runs one of xii's images, and which.
func ours(c corev1.Container) (string, bool) {
	for _, svc := range []string{"survey-svc", "aggregator-svc", "dashboard-svc"} {
		if c.Image == "xii/"+svc || len(c.Image) > len(svc)+4 && c.Image[:len(svc)+5] == "xii/"+svc+":" {
			return svc, true
		}
	}
	return "", false
}

func (o objects) secret(name string) (corev1.Secret, bool) {
	i := slices.IndexFunc(o.secrets, func(s corev1.Secret) bool { return s.Name == name })
	if i < 0 {
		return corev1.Secret{}, false
	}
	return o.secrets[i], true
}

// checkAggregatorPolicy: a NetworkPolicy selects the aggregator's pods and
// admits its port only from the dashboard's pods and a Prometheus.
func checkAggregatorPolicy(t *testing.T, o objects) {
	for _, p := range o.policies {
		if p.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != "aggregator" {
			continue
		}
		var from []string
		for _, rule := range p.Spec.Ingress {
			for _, peer := range rule.From {
				if peer.PodSelector == nil || peer.IPBlock != nil {
					t.Errorf("policy %s admits a peer that is no pod selector: %+v", p.Name, peer)
					continue
				}
				from = append(from, peer.PodSelector.MatchLabels["app.kubernetes.io/name"])
			}
		}
		if !slices.Equal(from, []string{"dashboard", "prometheus"}) {
			t.Errorf("policy %s admits %v, want the dashboard and prometheus only", p.Name, from)
		}
		return
	}
	t.Error("no NetworkPolicy selects the aggregator's pods")
}

func (o objects) configMap(name string) (corev1.ConfigMap, bool) {
	i := slices.IndexFunc(o.configMaps, func(cm corev1.ConfigMap) bool { return cm.Name == name })
	if i < 0 {
		return corev1.ConfigMap{}, false
	}
	return o.configMaps[i], true
}
