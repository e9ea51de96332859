// Package docker holds xii's container image (Dockerfile) and its Docker
// Compose definition (compose.yaml). It has no code: its tests check both
// files against the services' own command lines, the Makefile and SPEC.md's
// ports, since no Docker engine runs where the tests do.
package docker
