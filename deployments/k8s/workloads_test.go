package k8s

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("selector %v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func checkSelectors(t *testing.T, o objects) {
	for _, d := range o.deployments {
		if !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("Deployment %s: selector %v does not match its pod labels %v", d.Name, d.Spec.Selector, d.Spec.Template.Labels)
		}
	}
	for _, s := range o.statefulSets {
		if !selects(t, s.Spec.Selector, s.Spec.Template.Labels) {
			t.Errorf("StatefulSet %s: selector %v does not match its pod labels %v", s.Name, s.Spec.Selector, s.Spec.Template.Labels)
		}
	}
}

func checkContainers(t *testing.T, o objects) {
	for _, w := range o.workloads() {
		pod := w.tmpl.Spec
		if pod.SecurityContext == nil || !deref(pod.SecurityContext.RunAsNonRoot, false) {
			t.Errorf("%s %s: pod does not set runAsNonRoot", w.kind, w.name)
		}
		for _, c := range append(pod.InitContainers, pod.Containers...) {
			where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
			job := w.kind == "Job"
			if !job && (c.ReadinessProbe == nil || c.LivenessProbe == nil) {
				t.Errorf("%s: needs both a readiness and a liveness probe", where)
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					t.Errorf("%s: no %s request", where, res)
				}
				if _, ok := c.Resources.Limits[res]; !ok {
					t.Errorf("%s: no %s limit", where, res)
				}
			}
			sc := c.SecurityContext
			if sc == nil || !deref(sc.ReadOnlyRootFilesystem, false) || deref(sc.AllowPrivilegeEscalation, true) ||
				sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("%s: securityContext must set readOnlyRootFilesystem, no privilege escalation and drop ALL capabilities", where)
			}
			svc, mine := ours(c)
			if !mine || job {
				continue
			}
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
				t.Errorf("%s: readiness probe must GET /readyz", where)
			}
			if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
				t.Errorf("%s: liveness probe must GET /healthz", where)
			}
			port := listenPort(t, svc, c)
			if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return fmt.Sprint(p.ContainerPort) == port && p.Name == "http" }) {
				t.Errorf("%s listens on %s but declares no container port http=%s", where, port, port)
			}
		}
	}
}

func checkServices(t *testing.T, o objects) {
	for _, s := range o.services {
		var matched []podTemplate
		for _, w := range o.workloads() {
			if selects(t, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}, w.tmpl.Labels) {
				matched = append(matched, w)
			}
		}
		if len(matched) == 0 {
			t.Errorf("Service %s: selector %v matches no pods", s.Name, s.Spec.Selector)
			continue
		}
		for _, p := range s.Spec.Ports {
			for _, w := range matched {
				if !hasPort(w.tmpl.Spec, p.TargetPort.String(), p.TargetPort.IntValue()) {
					t.Errorf("Service %s port %s: %s %s has no container port %s", s.Name, p.Name, w.kind, w.name, p.TargetPort.String())
				}
			}
		}
	}
	for _, ss := range o.statefulSets {
		i := slices.IndexFunc(o.services, func(s corev1.Service) bool { return s.Name == ss.Spec.ServiceName })
		if i < 0 {
			t.Errorf("StatefulSet %s: no Service %q", ss.Name, ss.Spec.ServiceName)
		}
	}
}

func hasPort(pod corev1.PodSpec, name string, number int) bool {
	for _, c := range pod.Containers {
		for _, p := range c.Ports {
			if p.Name == name || number != 0 && int(p.ContainerPort) == number {
				return true
			}
		}
	}
	return false
}

func checkAvailability(t *testing.T, o objects) {
	for _, pdb := range o.pdbs {
		if !slices.ContainsFunc(o.workloads(), func(w podTemplate) bool { return selects(t, pdb.Spec.Selector, w.tmpl.Labels) }) {
			t.Errorf("PodDisruptionBudget %s selects no pods", pdb.Name)
		}
	}
	for _, hpa := range o.hpas {
		ref := hpa.Spec.ScaleTargetRef
		if !slices.ContainsFunc(o.deployments, func(w appsv1.Deployment) bool { return ref.Kind == "Deployment" && w.Name == ref.Name }) {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which is not here", hpa.Name, ref.Kind, ref.Name)
		}
		if deref(hpa.Spec.MinReplicas, 1) < 2 {
			t.Errorf("HorizontalPodAutoscaler %s may scale below 2 replicas", hpa.Name)
		}
	}
	want := map[string]bool{"dashboard": true, "aggregator": true}
	for _, w := range o.workloads() {
		if !want[w.name] {
			continue
		}
		if w.replicas < 2 {
			t.Errorf("%s %s: %d replica(s), want at least 2", w.kind, w.name, w.replicas)
		}
		if !slices.ContainsFunc(o.hpas, func(h autoscalingv2.HorizontalPodAutoscaler) bool { return h.Spec.ScaleTargetRef.Name == w.name }) {
			t.Errorf("%s %s has no HorizontalPodAutoscaler", w.kind, w.name)
		}
		if !slices.ContainsFunc(o.pdbs, func(p policyv1.PodDisruptionBudget) bool { return selects(t, p.Spec.Selector, w.tmpl.Labels) }) {
			t.Errorf("%s %s has no PodDisruptionBudget", w.kind, w.name)
		}
	}
}

// checkEtcd checks the etcd StatefulSet is a 3-member cluster whose
// initial cluster names exactly its pods, and that the services are given
// those members, as https:// URLs where etcd serves TLS.
func checkEtcd(t *testing.T, o objects) {
	i := slices.IndexFunc(o.statefulSets, func(s appsv1.StatefulSet) bool { return s.Name == "etcd" })
	if i < 0 {
		t.Fatal("no etcd StatefulSet")
	}
	ss := o.statefulSets[i]
	n := int(deref(ss.Spec.Replicas, 1))
	if n != 3 || ss.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("etcd: %d replicas with %q pod management, want 3 started in Parallel", n, ss.Spec.PodManagementPolicy)
	}
	scheme := ""
	if etcdServesTLS(ss) {
		scheme = "https://"
	}
	var members, endpoints []string
	for k := range n {
		pod := fmt.Sprintf("%s-%d", ss.Name, k)
		members = append(members, fmt.Sprintf("%s=http://%s.%s:2380", pod, pod, ss.Spec.ServiceName))
		endpoints = append(endpoints, fmt.Sprintf("%s%s.%s:2379", scheme, pod, ss.Spec.ServiceName))
	}
	args := strings.Join(ss.Spec.Template.Spec.Containers[0].Command, " ")
	if want := "--initial-cluster=" + strings.Join(members, ","); !strings.Contains(args, want) {
		t.Errorf("etcd command %q lacks %q", args, want)
	}
	j := slices.IndexFunc(o.services, func(s corev1.Service) bool { return s.Name == ss.Spec.ServiceName })
	if j < 0 || o.services[j].Spec.ClusterIP != corev1.ClusterIPNone || !o.services[j].Spec.PublishNotReadyAddresses {
		t.Errorf("etcd: Service %s must be headless and publish not-ready addresses, so members find each other", ss.Spec.ServiceName)
	}
	for _, cm := range o.configMaps {
		if v, ok := cm.Data["XII_ETCD_ENDPOINTS"]; ok && v != strings.Join(endpoints, ",") {
			t.Errorf("ConfigMap %s: XII_ETCD_ENDPOINTS %q, want every member: %q", cm.Name, v, strings.Join(endpoints, ","))
		}
	}
}
