package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kontakt.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "ari.secret")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	p := write(t, `{"listen": "127.0.0.1:9000", "database": {"url": "postgres://k@127.0.0.1:5432/kontakt"},
		"ari": {"url": "http://127.0.0.1:8088", "password_file": "`+secret+`", "request_timeout": "2s"},
		"calls": {"prompts_dir": "prompts"}}`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ARI.Password != "s3cret" || c.ARI.RequestTimeout.D().Seconds() != 2 || c.Listen != "127.0.0.1:9000" {
		t.Fatalf("loaded %+v", c)
	}
	if c.Calls.PromptsDir != filepath.Join(filepath.Dir(p), "prompts") {
		t.Fatalf("relative prompts_dir not resolved against the file: %s", c.Calls.PromptsDir)
	}
	if c.ARI.User != "kontakt" || c.ARI.App != "kontakt" {
		t.Fatalf("defaults lost: %+v", c.ARI)
	}
}

func TestLoadReportsEveryProblemWithItsKey(t *testing.T) {
	p := write(t, `{"listen": "127.0.0.1:99999", "databse": {}, "ari": {"url": "http://127.0.0.1:70000", "pasword": "x",
		"max_conns": "many"}, "log": {"format": "xml"}}`)
	_, err := Load(p)
	probs, ok := err.(Problems)
	if !ok {
		t.Fatalf("want Problems, got %T %v", err, err)
	}
	text := probs.Error()
	for _, want := range []string{
		`databse: unknown key (did you mean "database"?)`,
		`ari.pasword: unknown key (did you mean "password"?)`,
		`ari.max_conns: must be a whole number`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	// Decoding problems are reported before validation; fix them and validation speaks.
	p = write(t, `{"listen": "127.0.0.1:99999", "ari": {"url": "http://127.0.0.1:70000"}, "log": {"format": "xml"},
		"acd": {"callback": {"endpoint": "PJSIP/trunk", "caller_id": "city hall", "attempts": 0, "ring": "1s", "offer_after": "-1s"}}}`)
	_, err = Load(p)
	text = err.Error()
	for _, want := range []string{
		`listen: port "99999" is not a number from 0 to 65535`,
		`ari.url: port "70000" is not a number from 1 to 65535`,
		`ari.password: missing`,
		`database.url: missing`,
		`log.format: must be "text" or "json", not "xml"`,
		`acd.callback.endpoint: an Asterisk dial string with {number} in it`,
		`acd.callback.caller_id: the number residents see`,
		`acd.callback.attempts: between 1 and 10`,
		`acd.callback.ring: between 5s and 3m`,
		`acd.callback.offer_after: must not be negative`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

func TestMalformedJSONSaysWhere(t *testing.T) {
	p := write(t, "{\n  \"listen\": \"127.0.0.1:8080\",\n  \"log\": {\"format\": \"text\",}\n}")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("want the line of the error, got %v", err)
	}
}

func TestMissingSecretFile(t *testing.T) {
	p := write(t, `{"database": {"url": "postgres://k@h/db"}, "ari": {"password_file": "/nonexistent/secret"}}`)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "ari.password_file: cannot read the secret file") {
		t.Fatalf("got %v", err)
	}
}

func TestDurationRoundTrip(t *testing.T) {
	var c Config
	if probs := Decode([]byte(`{"drain": {"timeout": "90s"}}`), &c); len(probs) > 0 {
		t.Fatal(probs)
	}
	b, err := c.Drain.Timeout.MarshalJSON()
	if err != nil || string(b) != `"1m30s"` {
		t.Fatalf("%s %v", b, err)
	}
	if probs := Decode([]byte(`{"drain": {"timeout": 90}}`), &c); len(probs) != 1 || !strings.Contains(probs[0].Message, "duration") {
		t.Fatalf("a number for a duration: %v", probs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"listen": "127.0.0.1:8080", "ari": {"user": "k"}}`))
	f.Add([]byte(`{"drain": {"timeout": "5s"}, "calls": {"x": 1}}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Default()
		for _, p := range Decode(b, &c) {
			if p.Key == "" || p.Message == "" {
				t.Fatalf("problem without key or message: %+v", p)
			}
		}
	})
}
