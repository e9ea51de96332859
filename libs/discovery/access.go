package discovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ConfigPrefix holds the settings operators write, one key each (the
// aggregator's are under ConfigPrefix+"aggregator/").
const ConfigPrefix = "/xii/config/"

// electionKeys is the prefix every election's keys are under.
const electionKeys = "/xii/election/"

// Users Provision creates, and the roles it gives them.
const (
	UserRoot       = "root"
	UserAggregator = "aggregator"
	UserDashboard  = "dashboard"
	UserOperator   = "operator"
	// UserHealth has no role: it may authenticate and nothing more, which is
	// what `etcdctl endpoint health` needs to tell a live etcd (permission
	// denied) from a dead one.
	UserHealth = "health"
)

// SurveyUser is the etcd user of the survey instance that registers as
// provider name: it may write that provider's key and no other.
func SurveyUser(name string) string { return "survey-" + name }

// Access is who may do what in etcd once authentication is on: a password
// per user. Provision makes etcd hold exactly these users and roles.
type Access struct {
	Root, Aggregator, Dashboard, Operator string
	// Health is UserHealth's password; "" makes no such user.
	Health string
	// Surveys is provider name to the password of its survey instance.
	Surveys map[string]string
}

// Validate reports a missing password or an invalid provider name.
func (a Access) Validate() error {
	for user, pw := range map[string]string{UserRoot: a.Root, UserAggregator: a.Aggregator, UserDashboard: a.Dashboard, UserOperator: a.Operator} {
		if pw == "" {
			return fmt.Errorf("etcd access: no password for user %s", user)
		}
	}
	for name, pw := range a.Surveys {
		if err := ValidateName(name); err != nil {
			return fmt.Errorf("etcd access: survey %w", err)
		}
		if pw == "" {
			return fmt.Errorf("etcd access: no password for user %s", SurveyUser(name))
		}
	}
	return nil
}

// grant is one permission of a role: key alone, or every key with the
// prefix key.
type grant struct {
	key    string
	prefix bool
	perm   clientv3.PermissionType
}

var (
	read      = clientv3.PermissionType(clientv3.PermRead)
	readWrite = clientv3.PermissionType(clientv3.PermReadWrite)
)

// roles returns role name to grants, and user to role ("" for none), for a.
func (a Access) roles() (map[string][]grant, map[string]string) {
	roles := map[string][]grant{
		// The aggregator follows providers, retirements and its settings,
		// registers itself for the dashboards and runs the poll election.
		"xii-aggregator": {
			{ProvidersPrefix, true, read},
			{RetiredPrefix, true, read},
			{ConfigPrefix, true, read},
			{ServiceKey("aggregator/"), true, readWrite},
			{electionKeys, true, readWrite},
		},
		// The dashboard only finds the aggregator replicas.
		"xii-dashboard": {{ServiceKey("aggregator/"), true, read}},
		// Operators add and retire providers and change settings.
		"xii-operator": {{"/xii/", true, readWrite}},
	}
	users := map[string]string{
		UserRoot: "root", UserAggregator: "xii-aggregator", UserDashboard: "xii-dashboard", UserOperator: "xii-operator",
	}
	if a.Health != "" {
		users[UserHealth] = ""
	}
	for name := range a.Surveys {
		role := "xii-survey-" + name
		roles[role] = []grant{{ProviderKey(name), false, readWrite}}
		users[SurveyUser(name)] = role
	}
	return roles, users
}

func (a Access) password(user string) string {
	switch user {
	case UserRoot:
		return a.Root
	case UserAggregator:
		return a.Aggregator
	case UserDashboard:
		return a.Dashboard
	case UserOperator:
		return a.Operator
	case UserHealth:
		return a.Health
	}
	for name, pw := range a.Surveys {
		if SurveyUser(name) == user {
			return pw
		}
	}
	return ""
}

// Provision creates a's users and roles in etcd, sets their passwords and
// grants, and turns authentication on. It can run again, on an etcd whose
// authentication is already on (cli must then be root's) to add a survey
// instance or rotate a password; it only adds and updates, so a user or role
// made by hand stays. The role root is etcd's own.
func Provision(ctx context.Context, cli *clientv3.Client, a Access) error {
	if err := a.Validate(); err != nil {
		return err
	}
	roles, users := a.roles()
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		if _, err := cli.RoleAdd(ctx, role); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
			return fmt.Errorf("etcd access: add role %s: %w", role, err)
		}
		for _, g := range roles[role] {
			end := ""
			if g.prefix {
				end = clientv3.GetPrefixRangeEnd(g.key)
			}
			if _, err := cli.RoleGrantPermission(ctx, role, g.key, end, g.perm); err != nil {
				return fmt.Errorf("etcd access: grant %s on %s: %w", role, g.key, err)
			}
		}
	}
	for _, user := range slices.Sorted(maps.Keys(users)) {
		pw := a.password(user)
		_, err := cli.UserAdd(ctx, user, pw)
		if errors.Is(err, rpctypes.ErrUserAlreadyExist) {
			_, err = cli.UserChangePassword(ctx, user, pw)
		}
		if err != nil {
			return fmt.Errorf("etcd access: user %s: %w", user, err)
		}
		if users[user] == "" {
			continue
		}
		if _, err := cli.UserGrantRole(ctx, user, users[user]); err != nil {
			return fmt.Errorf("etcd access: give %s role %s: %w", user, users[user], err)
		}
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		return fmt.Errorf("etcd access: enable authentication: %w", err)
	}
	return nil
}
