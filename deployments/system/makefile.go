package system

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var makeVar = regexp.MustCompile(`\$\(([A-Z_]+)\)`)

// MakeBuildCommand returns the shell line the Makefile's build target runs
// for one service, as make hands it to sh: make's variables expanded (GO
// is go; overrides such as VERSION and BIN win over the Makefile's), the
// loop variable left as $svc.
func MakeBuildCommand(tb testing.TB, root string, overrides map[string]string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		tb.Fatal(err)
	}
	vars := map[string]string{"GO": "go"}
	var recipe string
	for line := range strings.Lines(string(b)) {
		name, value, ok := strings.Cut(line, ":=")
		if name = strings.TrimSpace(name); ok && !strings.ContainsAny(name, " \t$") {
			vars[name] = strings.TrimSpace(value)
		}
		if recipe == "" && strings.Contains(line, "$(GO) build ") {
			recipe = line
		}
	}
	if recipe == "" {
		tb.Fatal("Makefile: no `$(GO) build` recipe line")
	}
	for k, v := range overrides {
		vars[k] = v
	}
	recipe = strings.TrimSpace(recipe)
	if i := strings.Index(recipe, "||"); i >= 0 {
		recipe = recipe[:i]
	}
	for range 5 { // variables may refer to variables
		recipe = makeVar.ReplaceAllStringFunc(recipe, func(m string) string { return vars[m[2:len(m)-1]] })
	}
	return strings.TrimSpace(strings.ReplaceAll(recipe, "$$", "$"))
}
