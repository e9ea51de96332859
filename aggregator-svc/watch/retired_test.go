package watch_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"xii/aggregator-svc/watch"
	"xii/libs/discovery"
	"xii/testkit/watchtest"
)

func TestParseRetirement(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		value   string
		want    watch.Retirement
		wantErr bool
	}{
		{"", watch.Retirement{}, false},
		{"keep", watch.Retirement{}, false},
		{" delete\n", watch.Retirement{DropRows: true}, false},
		{"Delete", watch.Retirement{}, true},
		{"drop", watch.Retirement{}, true},
	} {
		got, err := watch.ParseRetirement(tt.value)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRetirement(%q) = %v, %v; want %v, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRetiredFollowsKeys(t *testing.T) {
	t.Parallel()
	cli := watchtest.NamespacedClient(t, shared.Endpoints())
	put := func(name, value string) {
		t.Helper()
		if _, err := cli.Put(t.Context(), discovery.RetiredKey(name), value); err != nil {
			t.Fatal(err)
		}
	}
	put("old", "keep")
	sets := newRecorder[map[string]watch.Retirement]()
	logs := &watchtest.Logs{}
	rejected := &watch.Rejected{}
	watchtest.Go(t, func(ctx context.Context) error {
		opts := watch.Options{Follow: discovery.FollowOptions{Logger: logs.Logger(), RetryMax: 200 * time.Millisecond}, Rejected: rejected}
		return watch.Retired(ctx, cli, opts, sets.record)
	})
	waitRetired := func(want map[string]watch.Retirement) {
		t.Helper()
		sets.wait(t, visible, "retired set", func(got map[string]watch.Retirement) bool { return maps.Equal(got, want) })
	}
	waitRetired(map[string]watch.Retirement{"old": {}})

	put("gone", "delete")
	waitRetired(map[string]watch.Retirement{"old": {}, "gone": {DropRows: true}})

	// A typo retires nothing: the provider stays covered.
	put("typo", "remove")
	put("later", "")
	waitRetired(map[string]watch.Retirement{"old": {}, "gone": {DropRows: true}, "later": {}})
	if lines := logs.Lines(`"etcd_key":"` + discovery.RetiredKey("typo") + `"`); len(lines) != 1 {
		t.Errorf("%d log lines name the invalid retirement, want 1; log:\n%s", len(lines), logs)
	}
	// ... and it is shown as refused until it is fixed.
	if got := rejected.List(); len(got) != 1 || got[0].Key != discovery.RetiredKey("typo") || got[0].Value != "remove" || got[0].Reason == "" {
		t.Errorf("rejected %+v, want the typo with its value and reason", got)
	}
	put("typo", "keep")
	waitRetired(map[string]watch.Retirement{"old": {}, "gone": {DropRows: true}, "later": {}, "typo": {}})
	if got := rejected.List(); len(got) != 0 {
		t.Errorf("rejected %+v after the fix, want none", got)
	}
}
