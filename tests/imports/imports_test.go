package imports

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	serviceModules = []string{"xii/survey-svc", "xii/aggregator-svc", "xii/dashboard-svc"}
	sharedModules  = []string{"xii/libs", "xii/observability"}
	// testModule holds test-only helpers: any module's tests may import
	// it, no production code.
	testModule = "xii/testkit"

	// domainPackages hold domain code only: the syncer makes the freshness
	// guarantee and reaches providers and the store through interfaces.
	domainPackages = []string{"aggregator-svc/syncer"}
	// mixedPackages hold a service's domain and its HTTP transport; the rule
	// applies to the files that are not transport (see transportFile).
	mixedPackages = []string{"survey-svc/survey", "aggregator-svc/aggregate", "dashboard-svc/dashboard"}

	// notDomain are what domain code must not import, with their
	// subpackages: the transport's and the stores' dependencies.
	notDomain = []string{"net/http", "database/sql", "github.com/lib/pq", "go.etcd.io"}
)

// knownBreaks are domain files that break the rule, each with the import
// it may keep until it is fixed. The test fails once an entry no longer
// breaks the rule, so that the entry goes with the fix. None today.
var knownBreaks = map[string]string{}

// transportFile reports whether name is a transport or test file of a
// package in mixedPackages.
func transportFile(name string) bool {
	return strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "transport") ||
		strings.HasPrefix(name, "endpoints") || strings.HasPrefix(name, "middleware")
}

// goFile is one Go file and what it imports.
type goFile struct {
	path    string // slash-separated, relative to the repository root
	module  string // the path of the module it belongs to
	imports []string
}

func TestDomainImports(t *testing.T) {
	files, _ := repoFiles(t)
	checked := map[string]int{}
	used := map[string]bool{}
	for _, f := range files {
		dir, name := path.Split(f.path)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case slices.Contains(domainPackages, dir) && !strings.HasSuffix(name, "_test.go"):
		case slices.Contains(mixedPackages, dir) && !transportFile(name):
		default:
			continue
		}
		checked[dir]++
		for _, imp := range f.imports {
			if !slices.ContainsFunc(notDomain, func(p string) bool { return within(imp, p) }) {
				continue
			}
			if knownBreaks[f.path] == imp {
				used[f.path] = true
				continue
			}
			t.Errorf("%s imports %s: domain code imports neither net/http nor a database or etcd client", f.path, imp)
		}
	}
	for _, dir := range append(slices.Clone(domainPackages), mixedPackages...) {
		if checked[dir] == 0 {
			t.Errorf("%s: no domain file found; the rule checks nothing there", dir)
		}
	}
	for file, imp := range knownBreaks {
		if !used[file] {
			t.Errorf("%s no longer imports %s: drop it from knownBreaks", file, imp)
		}
	}
}

func TestModuleImports(t *testing.T) {
	files, modules := repoFiles(t)
	for _, m := range append(slices.Clone(serviceModules), sharedModules...) {
		if !slices.Contains(modules, m) {
			t.Fatalf("module %s not found (found %v)", m, modules)
		}
	}
	for _, f := range files {
		for _, imp := range f.imports {
			i := slices.IndexFunc(modules, func(m string) bool { return within(imp, m) })
			if i < 0 || modules[i] == f.module {
				continue
			}
			to := modules[i]
			isTest := strings.HasSuffix(f.path, "_test.go")
			switch {
			case to == testModule && !isTest:
				t.Errorf("%s imports %s: only tests import the test helpers", f.path, imp)
			case to == testModule:
			case slices.Contains(serviceModules, f.module) && !slices.Contains(sharedModules, to):
				t.Errorf("%s imports %s: a service imports only xii/libs and xii/observability of the other modules", f.path, imp)
			case slices.Contains(sharedModules, f.module) && slices.Contains(serviceModules, to):
				t.Errorf("%s imports %s: libs and observability import no service", f.path, imp)
			}
		}
	}
}

// within reports whether import path imp is pkg or one of its subpackages.
func within(imp, pkg string) bool {
	return imp == pkg || strings.HasPrefix(imp, pkg+"/")
}

// repoFiles returns every Go file of the repository with its imports, and
// the paths of the modules they belong to, longest first (so that the
// first module an import path is within is its own).
func repoFiles(tb testing.TB) ([]goFile, []string) {
	tb.Helper()
	root := repoRoot(tb)
	moduleOf := map[string]string{} // directory (slash-separated, relative) → module path
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// The go command ignores these too.
			if n := d.Name(); rel != "." && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			if m := modulePath(tb, filepath.Join(p, "go.mod")); m != "" {
				moduleOf[rel] = m
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".go") {
			return nil
		}
		module := ""
		for dir := path.Dir(rel); module == ""; dir = path.Dir(dir) {
			module = moduleOf[dir]
			if dir == "." {
				break
			}
		}
		if module == "" {
			return nil // not part of any module: nothing builds it
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		gf := goFile{path: rel, module: module}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			gf.imports = append(gf.imports, imp)
		}
		files = append(files, gf)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var modules []string
	for _, m := range moduleOf {
		modules = append(modules, m)
	}
	slices.SortFunc(modules, func(a, b string) int { return len(b) - len(a) })
	return files, modules
}

// modulePath returns the module path go.mod declares, "" when there is no
// such file.
func modulePath(tb testing.TB, gomod string) string {
	tb.Helper()
	f, err := os.Open(gomod)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			if m, err := strconv.Unquote(strings.TrimSpace(rest)); err == nil {
				return m
			}
			return strings.TrimSpace(rest)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	tb.Fatalf("%s declares no module", gomod)
	return ""
}

// repoRoot returns the directory holding go.work, found from the working
// directory upwards.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.work above the working directory")
		}
		dir = parent
	}
}
