package ticket

import (
	"os/exec"
	"strings"
	"testing"
)

// The pure rule sets (this package, the working calendar and the Polish text normaliser) must
// stay pure: no database driver, no network, no Asterisk client, no subprocesses, even through a
// dependency. (recording/retention.go is checked by its own test: its package does I/O.)
func TestPureDependencies(t *testing.T) {
	forbidden := []string{ // each with everything under it
		"github.com/jackc",             // pgx
		"github.com/CyCoreSystems/ari", // ari
		"database/sql",
		"net", // net/http too
		"os/exec",
	}
	pkgs := []string{"kontakt/internal/ticket", "kontakt/internal/workcal", "kontakt/internal/textpl"}
	for _, pkg := range pkgs {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
