package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"xii/deployments/system"
)

// objects are one overlay's rendered objects, decoded by kind.
type objects struct {
	namespaces   []corev1.Namespace
	configMaps   []corev1.ConfigMap
	secrets      []corev1.Secret
	services     []corev1.Service
	deployments  []appsv1.Deployment
	statefulSets []appsv1.StatefulSet
	jobs         []batchv1.Job
	pdbs         []policyv1.PodDisruptionBudget
	hpas         []autoscalingv2.HorizontalPodAutoscaler
	policies     []networkingv1.NetworkPolicy
}

// render builds the kustomization in dir (relative to deployments/k8s) as
// `kubectl kustomize` does, and decodes every object strictly: a field the
// API type does not have, a duplicate key or an unknown kind fails.
func render(t *testing.T, dir string) objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(system.Root(t), "deployments", "k8s", dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var o objects
	for _, r := range rm.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		id := r.GetGvk().ApiVersion() + " " + r.GetKind() + " " + r.GetName()
		var target any
		switch r.GetGvk().ApiVersion() + "/" + r.GetKind() {
		case "v1/Namespace":
			target = add(&o.namespaces)
		case "v1/ConfigMap":
			target = add(&o.configMaps)
		case "v1/Secret":
			target = add(&o.secrets)
		case "v1/Service":
			target = add(&o.services)
		case "apps/v1/Deployment":
			target = add(&o.deployments)
		case "apps/v1/StatefulSet":
			target = add(&o.statefulSets)
		case "batch/v1/Job":
			target = add(&o.jobs)
		case "policy/v1/PodDisruptionBudget":
			target = add(&o.pdbs)
		case "autoscaling/v2/HorizontalPodAutoscaler":
			target = add(&o.hpas)
		case "networking.k8s.io/v1/NetworkPolicy":
			target = add(&o.policies)
		default:
			t.Errorf("%s: %s is a kind these tests do not check", dir, id)
			continue
		}
		if err := yaml.UnmarshalStrict(b, target); err != nil {
			t.Errorf("%s: %s: %v", dir, id, err)
		}
	}
	return o
}

// add appends a zero element to *list and returns a pointer to it.
func add[T any](list *[]T) *T {
	*list = append(*list, *new(T))
	return &(*list)[len(*list)-1]
}

// scratch is removed after the tests; the service binaries go there.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xii-k8s-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	flagsOnce sync.Once
	flagsBin  string
	flagsErr  error
)

// flagsOf returns the flags of service svc, built as `make build` builds
// it, by environment variable name; those of its subcommand if one is given.
func flagsOf(t *testing.T, svc string, subcommand ...string) map[string]system.Flag {
	t.Helper()
	root := system.Root(t)
	line := system.MakeBuildCommand(t, root, map[string]string{"VERSION": "k8s-test"})
	flagsOnce.Do(func() {
		flagsBin = filepath.Join(scratch, "bin")
		for _, s := range system.Services {
			cmd, err := system.Eval(line, map[string]string{"svc": s})
			if err == nil {
				err = system.BuildAsMake(root, flagsBin, cmd)
			}
			if err != nil {
				flagsErr = err
				return
			}
		}
	})
	if flagsErr != nil {
		t.Fatal(flagsErr)
	}
	return system.Flags(t, filepath.Join(flagsBin, svc), subcommand...)
}
