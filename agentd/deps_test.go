package agentd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps proves the boundary: agentd (and its subpackages) never import the ARI side, the
// switchboard or the ACD; the call side reaches agents through Server's methods and implements Calls.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "kontakt/agentd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps printed too little to be believed: %q", deps)
	}
	forbidden := []string{"github.com/CyCoreSystems/ari", "kontakt/internal/switchboard", "kontakt/acd"}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("agentd depends on %s", d)
			}
		}
	}
}
