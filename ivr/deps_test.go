package ivr_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The IVR core does no I/O of its own: no database, no HTTP, no ARI, and only ivr/prompt runs
// programs (espeak-ng and sox).
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	forbidden := []string{"github.com/jackc/pgx", "net/http", "github.com/CyCoreSystems/ari", "github.com/pion"}
	for _, c := range []struct {
		pkg       string
		allowExec bool
	}{
		{"kontakt/ivr", false},
		{"kontakt/ivr/replay", false},
		{"kontakt/ivr/prompt", true},
	} {
		out, err := exec.Command(goBin, "list", "-deps", c.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", c.pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", c.pkg, dep)
				}
			}
			if dep == "os/exec" && !c.allowExec {
				t.Errorf("%s depends on os/exec: only ivr/prompt may run programs", c.pkg)
			}
		}
	}
}

// The pure packages read no clock, sleep on no timer and start no goroutine.
func TestPureCore(t *testing.T) {
	banned := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
		"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true}
	for _, dir := range []string{".", "replay"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: starts a goroutine", fset.Position(n.Pos()))
				case *ast.SelectorExpr:
					if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && banned[n.Sel.Name] {
						t.Errorf("%s: time.%s", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
