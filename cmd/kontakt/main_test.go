package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := runCmd("help")
	if code != 0 {
		t.Fatal(code)
	}
	for _, c := range []string{"serve", "migrate", "call", "version", "demo", "simulate"} {
		if !strings.Contains(out, "\n  "+c) {
			t.Errorf("help does not list %s:\n%s", c, out)
		}
	}
	if code, _, errOut := runCmd("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
}

func TestCheckConfigRefusesBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"ari": {"url": "http://127.0.0.1:0", "usr": "k"}, "database": {"url": "postgres://k@127.0.0.1:5432/kontakt"}}`), 0o600)
	code, _, errOut := runCmd("serve", "-check-config", "-config", bad)
	if code != 1 || !strings.Contains(errOut, `ari.usr: unknown key (did you mean "user"?)`) || !strings.Contains(errOut, bad) {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	bad2 := filepath.Join(dir, "bad2.json")
	os.WriteFile(bad2, []byte(`{"ari": {"url": "http://127.0.0.1:0"}, "database": {"url": "postgres://k@127.0.0.1:5432/kontakt"}}`), 0o600)
	code, _, errOut = runCmd("serve", "-check-config", "-config", bad2)
	if code != 1 || !strings.Contains(errOut, `ari.url: port "0" is not a number from 1 to 65535`) || !strings.Contains(errOut, "ari.password: missing") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"ari": {"password": "x"}, "database": {"url": "postgres://k@127.0.0.1:5432/kontakt"}}`), 0o600)
	code, out, errOut := runCmd("serve", "-check-config", "-config", good)
	if code != 0 || !strings.Contains(out, "configuration OK") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
}

func TestCallRefusesABadScript(t *testing.T) {
	code, _, errOut := runCmd("call", "-script", "wait 2s, dtmf 12x, tone 9000 1s")
	if code != 1 || !strings.Contains(errOut, `step 2 ("dtmf 12x")`) || !strings.Contains(errOut, `step 3 ("tone 9000 1s")`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}
