package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"xii/deployments/system"
)

// scratch is removed after the tests; binaries are built into it once.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xii-docker-test-")
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
	imageOnce sync.Once
	imageBin  string
	imageErr  error
)

// imageVersion is the VERSION build argument the replayed image build gets.
const imageVersion = "compose-test-version"

// imageBinaries replays the image build once (see replayBuild) and returns
// the directory of the binaries it produced, named after the services.
func imageBinaries(tb testing.TB) string {
	tb.Helper()
	imageOnce.Do(func() {
		imageBin, imageErr = replayBuild(tb, filepath.Join(scratch, "image"))
	})
	if imageErr != nil {
		tb.Fatal(imageErr)
	}
	return imageBin
}

// flagsOf returns the flags of service svc's binary, by environment name.
func flagsOf(tb testing.TB, svc string, subcommand ...string) map[string]system.Flag {
	tb.Helper()
	return system.Flags(tb, filepath.Join(imageBinaries(tb), svc), subcommand...)
}
