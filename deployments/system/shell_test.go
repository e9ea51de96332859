package system

import (
	"slices"
	"testing"
)

func TestEval(t *testing.T) {
	vars := map[string]string{"SERVICE": "survey-svc", "VERSION": "v1"}
	tests := []struct {
		line     string
		env      []string
		args     []string
		wantFail bool
	}{
		{`CGO_ENABLED=0 go build -o /out/${SERVICE} ./$SERVICE/cmd`, []string{"CGO_ENABLED=0"}, []string{"go", "build", "-o", "/out/survey-svc", "./survey-svc/cmd"}, false},
		{`go build -ldflags "-s -X main.version=${VERSION}"`, nil, []string{"go", "build", "-ldflags", "-s -X main.version=v1"}, false},
		{`go build -ldflags '-s -X main.version=${VERSION}'`, nil, []string{"go", "build", "-ldflags", "-s -X main.version=${VERSION}"}, false},
		{"go \\\n build $UNSET.", nil, []string{"go", "build", "."}, false},
		{`go "build`, nil, nil, true},
		{`A=1`, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := Eval(tt.line, vars)
			if tt.wantFail {
				if err == nil {
					t.Fatalf("Eval = %q, want an error", got)
				}
				return
			}
			if err != nil || !slices.Equal(got.Env, tt.env) || !slices.Equal(got.Args, tt.args) {
				t.Fatalf("Eval = %q %q, %v; want %q %q", got.Env, got.Args, err, tt.env, tt.args)
			}
		})
	}
}
