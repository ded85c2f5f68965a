package auth

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a Service. The zero value of each field means its default.
type Options struct {
	// Now is the clock (tests inject one); default time.Now.
	Now func() time.Time
	// Log receives sign-in failures, throttling and revocations; default discards.
	Log *slog.Logger
	// Hash are the argon2id parameters of new hashes; default DefaultParams.
	Hash Params
	// MaxConcurrentHashes bounds the password hashes computed at once (each takes Hash.Memory);
	// default the number of CPUs.
	MaxConcurrentHashes int
	// IdleTimeout ends a session not used for this long; default 4h. Use slides the expiry.
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after sign-in however much it is used; default 12h
	// (a shift and then some).
	MaxLifetime time.Duration
	// SecureCookies marks the cookie Secure even for plain-HTTP requests (behind a TLS proxy);
	// it is always Secure on a TLS request. It also makes https the only origin scheme accepted.
	SecureCookies bool
	// AllowedOrigins are origins accepted besides the request's own host (e.g.
	// "https://kontakt.um.example.pl" when a proxy rewrites Host).
	AllowedOrigins []string
	// TrustedProxies are the addresses of reverse proxies whose X-Forwarded-For is believed for
	// the client address (throttling, session records). Default none: the peer's address.
	TrustedProxies []netip.Prefix
	// Throttle configures sign-in throttling.
	Throttle ThrottleOptions
}

// ThrottleOptions configure sign-in throttling. Failures are counted per login (known or not,
// reset by a successful sign-in) and per client address (an IPv6 client's /64). Once a key has
// Limit failures within Window of its latest one, it is locked for BaseLock after that latest
// failure, doubling with every further failure up to MaxLock.
type ThrottleOptions struct {
	Window        time.Duration // default 15m
	LoginFailures int           // default 5
	IPFailures    int           // default 20 (a city office may sit behind one address)
	BaseLock      time.Duration // default 1m
	MaxLock       time.Duration // default 1h
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Log = o.Log.With("component", "auth")
	if o.Hash == (Params{}) {
		o.Hash = DefaultParams
	}
	if o.MaxConcurrentHashes <= 0 {
		o.MaxConcurrentHashes = runtime.NumCPU()
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 4 * time.Hour
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 12 * time.Hour
	}
	t := &o.Throttle
	if t.Window <= 0 {
		t.Window = 15 * time.Minute
	}
	if t.LoginFailures <= 0 {
		t.LoginFailures = 5
	}
	if t.IPFailures <= 0 {
		t.IPFailures = 20
	}
	if t.BaseLock <= 0 {
		t.BaseLock = time.Minute
	}
	if t.MaxLock <= 0 {
		t.MaxLock = time.Hour
	}
	return o
}

// Service is users, sign-in and sessions over Postgres, and their HTTP endpoints.
type Service struct {
	pool *pgxpool.Pool
	o    Options
	// hashing bounds concurrent argon2id computations (memory-hard: a burst of sign-ins must
	// queue, not exhaust memory).
	hashing chan struct{}

	dummyOnce sync.Once
	dummy     string // a hash of a random password, checked for unknown logins
}

// NewService returns the service over pool (migrated with store.Migrate).
func NewService(pool *pgxpool.Pool, opts Options) *Service {
	o := opts.withDefaults()
	if err := o.Hash.check(); err != nil {
		panic("auth: Options.Hash: " + err.Error())
	}
	return &Service{pool: pool, o: o, hashing: make(chan struct{}, o.MaxConcurrentHashes)}
}

func (s *Service) now() time.Time { return s.o.Now() }

// hash computes a new hash of password under the service's parameters.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(password, s.o.Hash)
}

// verify checks password against encoded. An empty or malformed encoded hash (an unknown
// login, a user without a password, a damaged row) is checked against a dummy hash so that the
// answer takes as long as a real check, and fails.
func (s *Service) verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer s.release()
	if _, perr := ParseHash(encoded); perr != nil {
		if encoded != "" {
			s.o.Log.Error("stored password hash is malformed", "err", perr)
		}
		VerifyPassword(password, s.dummyHash(), s.o.Hash) //nolint:errcheck // the dummy is well formed
		return false, false, nil
	}
	return VerifyPassword(password, encoded, s.o.Hash)
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		var err error
		s.dummy, err = HashPassword(string(randomBytes(16)), s.o.Hash)
		if err != nil {
			panic(err) // the parameters were checked when the service was built
		}
	})
	return s.dummy
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.hashing }

// dbtx is what the service's queries need: the pool or a transaction.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// cleanText makes untrusted text storable in a Postgres text column: valid UTF-8, no NUL.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
