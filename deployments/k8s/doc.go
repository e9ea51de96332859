// Package k8s holds xii's Kubernetes manifests: a kustomize base and the
// overlays demo and production (see README.md). It has no code: its tests
// render every overlay with kustomize and check the objects strictly
// against the Kubernetes API types and the services' own flags.
package k8s
