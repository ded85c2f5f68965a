package ivr_test

import (
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
