package deadline

import (
	"context"
	"testing"
	"time"
)

func TestEndpoint(t *testing.T) {
	var gotDeadline bool
	var got any
	e := Endpoint(func(ctx context.Context, request any) (any, error) {
		_, gotDeadline = ctx.Deadline()
		got = request
		return nil, nil
	})
	if _, err := e(t.Context(), Request{Request: "q", Timeout: time.Minute}); err != nil || got != "q" || !gotDeadline {
		t.Fatalf("Request: next got %v, deadline %v, err %v; want q with a deadline", got, gotDeadline, err)
	}
	if _, err := e(t.Context(), "plain"); err != nil || got != "plain" || gotDeadline {
		t.Fatalf("plain request: next got %v, deadline %v, err %v; want it unchanged, no deadline", got, gotDeadline, err)
	}
}
