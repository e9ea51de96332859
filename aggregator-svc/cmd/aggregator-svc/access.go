package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"xii/libs/discovery"
	"xii/libs/envflag"
)

// accessTimeout bounds the whole etcd-access run.
const accessTimeout = time.Minute

// accessCommand is the "etcd-access" subcommand: it makes etcd hold the
// users and roles of discovery.Access and turns authentication on (see
// discovery.Provision). Deployments run it once before the services, and
// again to add a survey instance or rotate a password. Passwords come from
// the environment (XII_ETCD_ROOT_PASSWORD, ...), not the command line, where
// other users of the host could read them.
func accessCommand(ctx context.Context, args []string, lookup func(string) (string, bool), stderr io.Writer) error {
	fs := flag.NewFlagSet("etcd-access", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoints := fs.String("etcd-endpoints", "127.0.0.1:2379", "comma-separated etcd endpoints")
	auth := discovery.AuthFlags(fs)
	var a discovery.Access
	fs.StringVar(&a.Root, "etcd-root-password", "", "password of etcd's root user, set or already in force")
	fs.StringVar(&a.Aggregator, "etcd-aggregator-password", "", "password of the aggregator's etcd user")
	fs.StringVar(&a.Dashboard, "etcd-dashboard-password", "", "password of the dashboard's etcd user")
	fs.StringVar(&a.Operator, "etcd-operator-password", "", "password of the operators' etcd user")
	fs.StringVar(&a.Health, "etcd-health-password", "", "password of the health-check user, which may do nothing; empty: none")
	surveys := fs.String("etcd-survey-passwords", "", "name=password,... : the etcd user of each survey instance, by provider name")
	if err := envflag.Parse(fs, "XII", args, lookup); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("etcd-access: unexpected arguments: %q", fs.Args())
	}
	tlsAuth, err := auth()
	if err != nil {
		return err
	}
	if tlsAuth.Username != "" {
		return errors.New("etcd-access: runs as root: give XII_ETCD_ROOT_PASSWORD, not XII_ETCD_USERNAME")
	}
	if a.Surveys, err = parseSurveyPasswords(*surveys); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	// As root from the start: before authentication is on, etcd answers
	// that it is off and the client goes on without a token.
	tlsAuth.Username, tlsAuth.Password = discovery.UserRoot, a.Root
	cli, err := discovery.NewClient(envflag.List(*endpoints), tlsAuth)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, accessTimeout)
	defer cancel()
	if err := discovery.Provision(ctx, cli, a); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "etcd-access: authentication on; users root, aggregator, dashboard, operator and %d survey instances\n", len(a.Surveys))
	return nil
}

// parseSurveyPasswords reads "blue=pw1,red=pw2". A password cannot hold a
// comma.
func parseSurveyPasswords(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range envflag.List(s) {
		name, pw, ok := strings.Cut(item, "=")
		if !ok {
			return nil, errors.New("etcd-survey-passwords: an item is not name=password") // the item may be a password
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("etcd-survey-passwords: %s given twice", name)
		}
		out[name] = pw
	}
	return out, nil
}
