package acd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps proves the boundary: acd and its subpackages do no I/O of the kinds the adapters own.
// `go list -deps` lists every package they import, directly or not (test files excluded).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "kontakt/acd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed too little to be believed: %q", deps)
	}
	forbidden := []string{"github.com/jackc/pgx", "github.com/CyCoreSystems/ari", "net/http", "os/exec", "net", "database/sql", "github.com/pion", "github.com/gorilla/websocket"}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("acd depends on %s", d)
			}
		}
	}
	for _, want := range []string{"kontakt/acd", "kontakt/acd/erlang", "kontakt/acd/sim"} {
		found := false
		for _, d := range deps {
			found = found || d == want
		}
		if !found {
			t.Errorf("%s missing from the list", want)
		}
	}
}
