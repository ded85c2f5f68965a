package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are written into every hash, so changing them
// affects new hashes only; a user whose hash has other parameters is rehashed at their next
// sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's argon2id recommendation (19 MiB, 2 passes, 1 thread), with a
// 16-byte salt and a 32-byte hash.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// The bounds a hash's parameters must be within, so that a damaged or hostile hash string
// cannot make a check run for minutes or allocate gigabytes.
const (
	maxMemory  = 1 << 20 // KiB (1 GiB)
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

func (p Params) check() error {
	switch {
	case p.Threads < 1:
		return errors.New("p must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("m must be from 8×p to %d KiB", maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("t must be from 1 to %d", maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("the salt must be %d to %d bytes", minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("the hash must be %d to %d bytes", minKeyLen, maxKeyLen)
	}
	return nil
}

// Hash is a parsed argon2id hash.
type Hash struct {
	Params
	Salt []byte
	Key  []byte
}

var b64 = base64.RawStdEncoding.Strict()

// String writes h in the PHC string format: $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func (h Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// ErrMalformedHash is returned for a stored hash that is not an argon2id PHC string Kontakt
// accepts.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// ParseHash reads a PHC string written by Hash.String. It is strict: the fields in that order,
// decimal numbers without leading zeros, unpadded canonical base64, parameters within bounds.
func ParseHash(s string) (Hash, error) {
	bad := func(why string) (Hash, error) { return Hash{}, fmt.Errorf("%w: %s", ErrMalformedHash, why) }
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if f[1] != "argon2id" {
		return bad(fmt.Sprintf("algorithm %q is not argon2id", f[1]))
	}
	if v, ok := strings.CutPrefix(f[2], "v="); !ok || v != strconv.Itoa(argon2.Version) {
		return bad(fmt.Sprintf("version %q is not v=%d", f[2], argon2.Version))
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return bad("want the parameters m, t and p")
	}
	var nums [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(ps[i], name)
		if !ok {
			return bad(fmt.Sprintf("parameter %d is %q, want %s…", i+1, ps[i], name))
		}
		if len(v) > 1 && v[0] == '0' || v == "" || v[0] == '+' {
			return bad(fmt.Sprintf("%s%s is not a plain number", name, v))
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad(fmt.Sprintf("%s%s is not a number below 2^32", name, v))
		}
		nums[i] = n
	}
	if nums[2] > 255 {
		return bad("p must be at most 255")
	}
	salt, ok := decodeB64(f[4])
	if !ok {
		return bad("salt: not base64 without padding")
	}
	key, ok := decodeB64(f[5])
	if !ok {
		return bad("hash: not base64 without padding")
	}
	h := Hash{Params: Params{Memory: uint32(nums[0]), Time: uint32(nums[1]), Threads: uint8(nums[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}, Salt: salt, Key: key}
	if err := h.Params.check(); err != nil {
		return bad(err.Error())
	}
	return h, nil
}

// decodeB64 decodes canonical unpadded base64 only (the decoder itself skips \r and \n).
func decodeB64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	return b, err == nil && b64.EncodeToString(b) == s
}

// HashPassword hashes password with fresh random salt under p.
func HashPassword(password string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", fmt.Errorf("auth: argon2id parameters: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return Hash{Params: p, Salt: salt, Key: key}.String(), nil
}

// VerifyPassword reports whether password matches the encoded hash, comparing in constant
// time, and whether the hash should be replaced because its parameters are not current.
func VerifyPassword(password, encoded string, current Params) (ok, rehash bool, err error) {
	h, err := ParseHash(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.Salt, h.Time, h.Memory, h.Threads, h.KeyLen)
	ok = subtle.ConstantTimeCompare(key, h.Key) == 1
	return ok, ok && h.Params != current, nil
}

// MinPasswordLen is the fewest characters a password may have.
const MinPasswordLen = 12

// maxPasswordLen bounds a password in bytes (a long one is fine; a megabyte is an attack).
const maxPasswordLen = 1024

// CheckPassword applies the password policy: at least 12 characters, at most 1024 bytes, and
// not the login itself. It returns nil or a *ValidationError on field.
func CheckPassword(field, login, password string) error {
	var msg string
	switch {
	case !utf8.ValidString(password):
		msg = "must be valid UTF-8 text"
	case utf8.RuneCountInString(password) < MinPasswordLen:
		msg = fmt.Sprintf("must have at least %d characters", MinPasswordLen)
	case len(password) > maxPasswordLen:
		msg = fmt.Sprintf("must have at most %d bytes", maxPasswordLen)
	case login != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(login)):
		msg = "must not be the login"
	default:
		return nil
	}
	return &ValidationError{Code: CodeWeakPassword, Fields: []FieldError{{Field: field, Message: msg}}}
}
