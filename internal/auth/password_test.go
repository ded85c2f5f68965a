package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fastParams keep tests quick; the benchmarks measure DefaultParams.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordHashRoundTrip(t *testing.T) {
	for _, p := range []Params{fastParams, DefaultParams} {
		enc, err := HashPassword("correct horse battery", p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$") {
			t.Fatalf("not a PHC argon2id string: %s", enc)
		}
		h, err := ParseHash(enc)
		if err != nil {
			t.Fatal(err)
		}
		if h.Params != p || h.String() != enc {
			t.Fatalf("parsed %+v, want %+v; re-encoded %s", h.Params, p, h.String())
		}
		ok, rehash, err := VerifyPassword("correct horse battery", enc, p)
		if err != nil || !ok || rehash {
			t.Fatalf("right password: ok=%v rehash=%v err=%v", ok, rehash, err)
		}
		ok, rehash, err = VerifyPassword("correct horse batterY", enc, p)
		if err != nil || ok || rehash {
			t.Fatalf("wrong password: ok=%v rehash=%v err=%v", ok, rehash, err)
		}
		// Parameters other than the current ones ask for a rehash, but only when the password is right.
		other := p
		other.Time++
		if ok, rehash, _ := VerifyPassword("correct horse battery", enc, other); !ok || !rehash {
			t.Fatalf("changed parameters: ok=%v rehash=%v", ok, rehash)
		}
		if _, rehash, _ := VerifyPassword("wrong", enc, other); rehash {
			t.Fatal("rehash asked for a wrong password")
		}
	}
	a, _ := HashPassword("same password!", fastParams)
	b, _ := HashPassword("same password!", fastParams)
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestParseHashRejectsMalformed(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	good := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, err := ParseHash(good); err != nil {
		t.Fatalf("the well-formed hash: %v", err)
	}
	for _, s := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,   // 4 GiB: above the bound
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,     // too slow
		"$argon2id$v=19$m=2048,t=1,p=256$" + salt + "$" + key,    // p is 8 bits
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,       // padding
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "==", // padding
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key,              // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA",        // 4-byte hash
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=64,t=1,p=1$sa!t$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "h", // non-canonical last character
		"x$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key,
	} {
		if h, err := ParseHash(s); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("ParseHash(%q) = %+v, %v; want ErrMalformedHash", s, h, err)
		}
		if ok, _, err := VerifyPassword("password", s, fastParams); ok || err == nil {
			t.Errorf("VerifyPassword against %q: ok=%v err=%v", s, ok, err)
		}
	}
}

// FuzzParseHash: any string either fails to parse or parses to a hash that writes back to
// exactly the same string, and never panics.
func FuzzParseHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v is not ErrMalformedHash", err)
			}
			return
		}
		if got := h.String(); got != s {
			t.Fatalf("ParseHash(%q) writes back as %q", s, got)
		}
		if err := h.Params.check(); err != nil {
			t.Fatalf("accepted out-of-bounds parameters: %v", err)
		}
	})
}

func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		login, password string
		ok              bool
	}{
		{"anna.k", "dwanaście zn", true},             // 12 characters, 14 bytes
		{"anna.k", "jedenaście!", false},             // 11 characters
		{"anna.k", "ąęśćżźółń", false},               // 9 characters, 18 bytes
		{"anna.kowalska", "Anna.Kowalska", false},    // the login, any case
		{"anna.kowalska", " anna.kowalska ", false},  // the login with spaces
		{"anna.kowalska", "anna.kowalska2", true},    // not equal
		{"anna.k", strings.Repeat("x", 1024), true},  // long is fine
		{"anna.k", strings.Repeat("x", 1025), false}, // too long
		{"anna.k", "twelve chars\xff", false},        // not UTF-8
		{"anna.k", strings.Repeat(" ", MinPasswordLen), true},
	} {
		err := CheckPassword("password", c.login, c.password)
		if (err == nil) != c.ok {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok=%v", c.login, c.password, err, c.ok)
		}
		var ve *ValidationError
		if err != nil && (!errors.As(err, &ve) || ve.Code != CodeWeakPassword || ve.Fields[0].Field != "password") {
			t.Errorf("CheckPassword(%q) error %#v is not a weak_password ValidationError on password", c.password, err)
		}
	}
}

func TestLockedUntil(t *testing.T) {
	o := ThrottleOptions{Window: 15 * time.Minute, LoginFailures: 5, BaseLock: time.Minute, MaxLock: time.Hour}
	t0 := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	at := func(mins ...float64) []time.Time {
		var out []time.Time
		for _, m := range mins {
			out = append(out, t0.Add(time.Duration(m*float64(time.Minute))))
		}
		return out
	}
	for _, c := range []struct {
		name  string
		fails []time.Time
		want  time.Duration // after t0; -1: not locked
	}{
		{"none", nil, -1},
		{"four", at(0, 1, 2, 3), -1},
		{"five", at(0, 1, 2, 3, 4), 5 * time.Minute},
		{"five spread over more than the window", at(0, 4, 8, 12, 16), -1},
		{"six doubles", at(0, 0, 0, 0, 0, 1), 3 * time.Minute},
		{"seven doubles again", at(0, 0, 0, 0, 0, 1, 3), 7 * time.Minute},
		{"capped", at(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), time.Hour},
	} {
		got := lockedUntil(c.fails, o.LoginFailures, o)
		want := time.Time{}
		if c.want >= 0 {
			want = t0.Add(c.want)
		}
		if !got.Equal(want) {
			t.Errorf("%s: locked until %v, want %v", c.name, got, want)
		}
	}
}
