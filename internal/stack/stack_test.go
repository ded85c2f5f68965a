package stack

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// requireStack fails under CI=true when a component is missing, and skips otherwise.
func requireStack(t *testing.T) {
	t.Helper()
	if m := Missing(); len(m) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and not installed: %s", strings.Join(m, ", "))
		}
		t.Skipf("not installed: %s (run scripts/install-deps.sh)", strings.Join(m, ", "))
	}
}

func TestStackStartsAndStops(t *testing.T) {
	requireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	out, err := s.Asterisk.CLI(ctx, "module show like res_ari")
	if err != nil {
		t.Fatalf("cli: %v %s", err, out)
	}
	if !strings.Contains(out, "res_ari_channels.so") {
		t.Fatalf("res_ari_channels not loaded:\n%s", out)
	}
	out, _ = s.Asterisk.CLI(ctx, "module show like chan_sip")
	if strings.Contains(out, "chan_sip.so") {
		t.Fatalf("chan_sip must not be loaded:\n%s", out)
	}
	out, _ = s.Asterisk.CLI(ctx, "pjsip show endpoints")
	for _, ep := range []string{"trunk", "phone1"} {
		if !strings.Contains(out, ep) {
			t.Fatalf("endpoint %s missing:\n%s", ep, out)
		}
	}
	for _, f := range []string{"apology.wav", "leave-message.wav"} {
		if st, err := os.Stat(s.Asterisk.SoundsDir() + "/" + f); err != nil || st.Size() < 8000 {
			t.Fatalf("prompt %s not rendered: %v", f, err)
		}
	}
}
