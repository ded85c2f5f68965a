// Package config holds Kontakt's configuration: defaults as a value, strict decoding of a JSON
// file (unknown keys are errors), secrets read from files, and validation that reports every
// problem at once with the key it concerns.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of one kontakt process.
type Config struct {
	// Listen is the address of the HTTP server (API, WebSocket, UI, metrics, health).
	Listen string `json:"listen"`
	Log    Log    `json:"log"`
	// Database is the Postgres connection.
	Database Database `json:"database"`
	// ARI is the Asterisk REST Interface connection.
	ARI ARI `json:"ari"`
	// Calls configures the call handling defaults.
	Calls Calls `json:"calls"`
	// Media configures the agents' WebRTC softphones.
	Media Media `json:"media"`
	// ACD configures call distribution.
	ACD ACD `json:"acd"`
	// Recording configures call recordings and retention.
	Recording Recording `json:"recording"`
	// Drain bounds the graceful shutdown.
	Drain Drain `json:"drain"`
	// TimeZone is the zone the contact center works in (ticket numbers, schedules, retention).
	TimeZone string `json:"time_zone"`
}

// Log configures slog output.
type Log struct {
	Format string `json:"format"` // "text" (development) or "json" (production)
	Level  string `json:"level"`  // debug, info, warn, error
}

// Database is the Postgres connection.
type Database struct {
	URL     string `json:"url"`
	URLFile string `json:"url_file"`
	// MaxConns bounds the connection pool.
	MaxConns int `json:"max_conns"`
}

// ARI is the Asterisk REST Interface connection.
type ARI struct {
	// URL is the base of Asterisk's HTTP server, e.g. http://127.0.0.1:8088 (without /ari).
	URL          string `json:"url"`
	User         string `json:"user"`
	Password     string `json:"password"`
	PasswordFile string `json:"password_file"`
	// App is the Stasis application residents' calls enter.
	App string `json:"app"`
	// MaxConns bounds concurrent REST connections (Asterisk's http.conf sessionlimit defaults to 100).
	MaxConns int `json:"max_conns"`
	// RequestTimeout bounds one REST request.
	RequestTimeout Duration `json:"request_timeout"`
	// ReconnectMin and ReconnectMax bound the reconnect backoff.
	ReconnectMin Duration `json:"reconnect_min"`
	ReconnectMax Duration `json:"reconnect_max"`
}

// Calls configures call handling.
type Calls struct {
	// PromptsDir is where rendered prompts are kept (8 kHz 16-bit WAV); Asterisk must read it.
	PromptsDir string `json:"prompts_dir"`
	// MessagesDir is where the dialplan leaves voice messages recorded while kontakt was away.
	MessagesDir string `json:"messages_dir"`
	// ReconcileEvery is how often Asterisk's channel list is compared with kontakt's calls.
	ReconcileEvery Duration `json:"reconcile_every"`
}

// Media configures the agents' WebRTC softphones (ICE).
type Media struct {
	// UDPMux ("host:port") makes every agent's ICE share one UDP port; else PortMin–PortMax.
	UDPMux  string `json:"udp_mux"`
	PortMin int    `json:"port_min"`
	PortMax int    `json:"port_max"`
	// Networks restricts ICE candidates to these prefixes (e.g. "10.0.0.0/8"); empty: every
	// non-loopback interface.
	Networks []string `json:"networks"`
	// PublicIPs are advertised instead of local addresses (a server behind 1:1 NAT).
	PublicIPs []string `json:"public_ips"`
	// IncludeLoopback also offers 127.0.0.1 (headless agents on the same machine).
	IncludeLoopback bool `json:"include_loopback"`
}

// ACD configures call distribution.
type ACD struct {
	// WrapUp is the after-call work time; Ring the ring-no-answer limit of an offer.
	WrapUp Duration `json:"wrap_up"`
	Ring   Duration `json:"ring"`
	// AnnounceFirst is when a waiting caller first hears their position and expected wait;
	// AnnounceEvery how often again ("0s": never again).
	AnnounceFirst Duration `json:"announce_first"`
	AnnounceEvery Duration `json:"announce_every"`
	// Callback: how residents are called back.
	Callback Callback `json:"callback"`
}

// Callback configures callbacks: the offer to a waiting caller, and how Kontakt dials.
type Callback struct {
	// OfferAfter is how long a caller waits before being offered a callback that keeps their
	// place ("0s": never offered while waiting; the menu's callback node still books one).
	OfferAfter Duration `json:"offer_after"`
	// Endpoint is Asterisk's dial string for a resident's number, with {number} in it, e.g.
	// "PJSIP/{number}@trunk".
	Endpoint string `json:"endpoint"`
	// CallerID is the number the resident's phone shows.
	CallerID string `json:"caller_id"`
	// Attempts is how many times Kontakt calls before giving up; Retry the pause between
	// attempts; Ring how long each attempt may ring.
	Attempts int      `json:"attempts"`
	Retry    Duration `json:"retry"`
	Ring     Duration `json:"ring"`
}

// Recording configures call recordings, their archive and retention.
type Recording struct {
	// ArchiveDir keeps the recordings (YYYY/MM/DD/<call>-<leg>.wav).
	ArchiveDir string `json:"archive_dir"`
	// SpoolDir is Asterisk's recording directory (astspooldir/recording), where recordings are
	// written before they are archived.
	SpoolDir string `json:"spool_dir"`
	// RetentionMonths is how many full calendar months after the month a ticket was registered
	// its recordings and personal data are kept (the Łódź rule: 6).
	RetentionMonths int `json:"retention_months"`
	// ConsultantsOwnCalls lets a consultant listen to the recordings of calls they took.
	ConsultantsOwnCalls bool `json:"consultants_own_calls"`
	// PurgeAt is the daily time of the retention purge, "HH:MM" in time_zone.
	PurgeAt string `json:"purge_at"`
}

// Drain bounds the graceful shutdown.
type Drain struct {
	// Timeout is how long active calls may continue after the first signal.
	Timeout Duration `json:"timeout"`
}

// Default returns the configuration used when a key is not given.
func Default() Config {
	return Config{
		Listen:   "127.0.0.1:8080",
		Log:      Log{Format: "text", Level: "info"},
		Database: Database{MaxConns: 16},
		ARI: ARI{
			URL:            "http://127.0.0.1:8088",
			User:           "kontakt",
			App:            "kontakt",
			MaxConns:       32,
			RequestTimeout: Duration(5 * time.Second),
			ReconnectMin:   Duration(200 * time.Millisecond),
			ReconnectMax:   Duration(5 * time.Second),
		},
		Calls: Calls{
			PromptsDir:     "/var/lib/kontakt/prompts",
			MessagesDir:    "/var/spool/asterisk/kontakt-messages",
			ReconcileEvery: Duration(30 * time.Second),
		},
		Media: Media{PortMin: 40000, PortMax: 40999, IncludeLoopback: true},
		ACD: ACD{WrapUp: Duration(30 * time.Second), Ring: Duration(20 * time.Second),
			AnnounceFirst: Duration(2 * time.Second), AnnounceEvery: Duration(45 * time.Second),
			Callback: Callback{OfferAfter: Duration(90 * time.Second), Endpoint: "PJSIP/{number}@trunk", CallerID: "19115",
				Attempts: 3, Retry: Duration(5 * time.Minute), Ring: Duration(30 * time.Second)}},
		Recording: Recording{ArchiveDir: "/var/lib/kontakt/recordings", SpoolDir: "/var/spool/asterisk/recording", RetentionMonths: 6, PurgeAt: "03:30"},
		Drain:     Drain{Timeout: Duration(10 * time.Minute)},
		TimeZone:  "Europe/Warsaw",
	}
}

// Duration is a time.Duration written as a Go duration string ("5s", "2m").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"5s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (examples: \"500ms\", \"5s\", \"2m\")", s)
	}
	*d = Duration(v)
	return nil
}

// Problems is every problem found in a configuration.
type Problems []Problem

// Problem is one thing wrong with a configuration, at a key.
type Problem struct {
	Key     string // dotted path, e.g. "ari.password"
	Message string
}

func (p Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d configuration problem(s):", len(p))
	for _, q := range p {
		fmt.Fprintf(&b, "\n  %s: %s", q.Key, q.Message)
	}
	return b.String()
}

// Load reads a configuration file (if path is not empty) over the defaults, reads secrets from
// their files and validates the result. The error, if any, is Problems (every problem at once)
// or a file error.
func Load(path string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		var probs Problems
		if probs = Decode(b, &c); len(probs) > 0 {
			for i := range probs {
				probs[i].Key = path + ": " + probs[i].Key
			}
			return c, probs
		}
		c.resolveRelative(filepath.Dir(path))
	}
	if probs := c.readSecrets(); len(probs) > 0 {
		return c, probs
	}
	if probs := c.Validate(); len(probs) > 0 {
		return c, probs
	}
	return c, nil
}

// resolveRelative makes file paths in the configuration relative to the file's directory.
func (c *Config) resolveRelative(dir string) {
	for _, p := range []*string{&c.Database.URLFile, &c.ARI.PasswordFile, &c.Calls.PromptsDir, &c.Calls.MessagesDir, &c.Recording.ArchiveDir, &c.Recording.SpoolDir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Decode decodes JSON into c strictly: unknown keys, wrong types and malformed JSON are all
// reported, with their paths; keys that are absent keep their current values.
func Decode(b []byte, c *Config) Problems {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Problems{{Key: "(file)", Message: jsonError(b, err)}}
	}
	if dec.More() {
		return Problems{{Key: "(file)", Message: "more than one JSON value in the file"}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return Problems{{Key: "(file)", Message: "the configuration must be a JSON object"}}
	}
	var probs Problems
	decodeInto(reflect.ValueOf(c).Elem(), obj, "", &probs)
	return probs
}

func jsonError(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, ch := range b[:min(int(se.Offset), len(b))] {
			if ch == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("malformed JSON at line %d column %d: %v", line, col, err)
	}
	return "malformed JSON: " + err.Error()
}

func decodeInto(v reflect.Value, obj map[string]any, prefix string, probs *Problems) {
	t := v.Type()
	known := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if name != "" && name != "-" {
			known[name] = i
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := prefix + k
		if k == "" {
			path = prefix + `""`
		}
		i, ok := known[k]
		if !ok {
			*probs = append(*probs, Problem{path, "unknown key" + suggest(k, known)})
			continue
		}
		f := v.Field(i)
		val := obj[k]
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(Duration(0)) {
			sub, ok := val.(map[string]any)
			if !ok {
				*probs = append(*probs, Problem{path, "must be an object"})
				continue
			}
			decodeInto(f, sub, path+".", probs)
			continue
		}
		b, _ := json.Marshal(val)
		if err := json.Unmarshal(b, f.Addr().Interface()); err != nil {
			*probs = append(*probs, Problem{path, typeMessage(f, err)})
		}
	}
}

func typeMessage(f reflect.Value, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		switch f.Kind() {
		case reflect.String:
			return "must be a string"
		case reflect.Int, reflect.Int64:
			return "must be a whole number"
		case reflect.Bool:
			return "must be true or false"
		}
	}
	return err.Error()
}

func suggest(k string, known map[string]int) string {
	best, bestD := "", 3
	for name := range known {
		if d := editDistance(k, name); d < bestD {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (c *Config) readSecrets() Problems {
	var probs Problems
	read := func(key, file string, dst *string) {
		if file == "" {
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			probs = append(probs, Problem{key, fmt.Sprintf("cannot read the secret file: %v", err)})
			return
		}
		*dst = strings.TrimSpace(string(b))
	}
	read("ari.password_file", c.ARI.PasswordFile, &c.ARI.Password)
	read("database.url_file", c.Database.URLFile, &c.Database.URL)
	return probs
}

// Validate checks values; every problem is reported.
func (c *Config) Validate() Problems {
	var p Problems
	add := func(k, f string, a ...any) { p = append(p, Problem{k, fmt.Sprintf(f, a...)}) }
	if err := checkHostPort(c.Listen); err != "" {
		add("listen", "%s", err)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "must be \"text\" or \"json\", not %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be one of debug, info, warn, error, not %q", c.Log.Level)
	}
	if c.Database.URL == "" {
		add("database.url", "missing: give the Postgres URL (postgres://user@host:port/db) or database.url_file")
	} else if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		add("database.url", "must be a postgres:// URL")
	} else if e := checkURLPort(u); e != "" {
		add("database.url", "%s", e)
	}
	if c.Database.MaxConns < 1 || c.Database.MaxConns > 1000 {
		add("database.max_conns", "must be between 1 and 1000, not %d", c.Database.MaxConns)
	}
	if u, err := url.Parse(c.ARI.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("ari.url", "must be an http:// or https:// URL of Asterisk's HTTP server, like http://127.0.0.1:8088")
	} else if e := checkURLPort(u); e != "" {
		add("ari.url", "%s", e)
	} else if strings.TrimSuffix(u.Path, "/") != "" {
		add("ari.url", "give the server's base URL without a path (kontakt adds /ari itself), not %q", c.ARI.URL)
	}
	if c.ARI.User == "" {
		add("ari.user", "missing: the ARI user from Asterisk's ari.conf")
	}
	if c.ARI.Password == "" {
		add("ari.password", "missing: give ari.password or ari.password_file (the password from Asterisk's ari.conf)")
	}
	if c.ARI.App == "" || strings.ContainsAny(c.ARI.App, " ,/?&") {
		add("ari.app", "must be a Stasis application name without spaces, commas or slashes")
	}
	if c.ARI.MaxConns < 1 || c.ARI.MaxConns > 90 {
		add("ari.max_conns", "must be between 1 and 90 (Asterisk's sessionlimit is 100 by default), not %d", c.ARI.MaxConns)
	}
	if c.ARI.RequestTimeout.D() <= 0 {
		add("ari.request_timeout", "must be positive")
	}
	if c.ARI.ReconnectMin.D() <= 0 || c.ARI.ReconnectMax.D() < c.ARI.ReconnectMin.D() {
		add("ari.reconnect_min", "must be positive and not above ari.reconnect_max")
	}
	if c.Calls.PromptsDir == "" || !filepath.IsAbs(c.Calls.PromptsDir) {
		add("calls.prompts_dir", "must be an absolute directory path (Asterisk reads prompts from it)")
	}
	if c.Calls.MessagesDir == "" || !filepath.IsAbs(c.Calls.MessagesDir) {
		add("calls.messages_dir", "must be an absolute directory path")
	}
	if c.Calls.ReconcileEvery.D() < time.Second {
		add("calls.reconcile_every", "must be at least 1s")
	}
	if c.Media.PortMin < 0 || c.Media.PortMax > 65535 || c.Media.PortMin > c.Media.PortMax {
		add("media.port_min", "ports must satisfy 0 <= port_min <= port_max <= 65535")
	}
	if c.ACD.AnnounceFirst.D() < 0 || c.ACD.AnnounceEvery.D() < 0 || (c.ACD.AnnounceEvery.D() > 0 && c.ACD.AnnounceEvery.D() < 10*time.Second) {
		add("acd.announce_every", "announcements: announce_first not negative; announce_every 0 (once) or at least 10s")
	}
	if cb := c.ACD.Callback; cb.OfferAfter.D() < 0 {
		add("acd.callback.offer_after", "must not be negative (0s: callbacks are not offered while waiting)")
	}
	if cb := c.ACD.Callback; !strings.Contains(cb.Endpoint, "{number}") || strings.ContainsAny(cb.Endpoint, " \t\n") {
		add("acd.callback.endpoint", "an Asterisk dial string with {number} in it, such as PJSIP/{number}@trunk")
	}
	if cb := c.ACD.Callback; cb.CallerID == "" || strings.Trim(cb.CallerID, "+0123456789") != "" {
		add("acd.callback.caller_id", "the number residents see: digits, optionally after +")
	}
	if cb := c.ACD.Callback; cb.Attempts < 1 || cb.Attempts > 10 {
		add("acd.callback.attempts", "between 1 and 10")
	}
	if cb := c.ACD.Callback; cb.Retry.D() < 10*time.Second {
		add("acd.callback.retry", "at least 10s")
	}
	if cb := c.ACD.Callback; cb.Ring.D() < 5*time.Second || cb.Ring.D() > 3*time.Minute {
		add("acd.callback.ring", "between 5s and 3m")
	}
	if c.ACD.WrapUp.D() < 0 || c.ACD.Ring.D() < time.Second {
		add("acd.ring", "ring must be at least 1s and wrap_up not negative")
	}
	if c.Recording.ArchiveDir == "" || !filepath.IsAbs(c.Recording.ArchiveDir) {
		add("recording.archive_dir", "must be an absolute directory path")
	}
	if c.Recording.SpoolDir == "" || !filepath.IsAbs(c.Recording.SpoolDir) {
		add("recording.spool_dir", "must be an absolute directory path (Asterisk's astspooldir/recording)")
	}
	if c.Recording.RetentionMonths < 1 || c.Recording.RetentionMonths > 120 {
		add("recording.retention_months", "must be between 1 and 120, not %d", c.Recording.RetentionMonths)
	}
	if _, _, err := c.PurgeTime(); err != nil {
		add("recording.purge_at", "%v", err)
	}
	if c.Drain.Timeout.D() <= 0 {
		add("drain.timeout", "must be positive")
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		add("time_zone", "unknown time zone %q", c.TimeZone)
	}
	return p
}

func checkHostPort(hp string) string {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return fmt.Sprintf("must be host:port, like 127.0.0.1:8080 (%v)", err)
	}
	_ = host
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port %q is not a number from 0 to 65535", port)
	}
	return ""
}

func checkURLPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %q is not a number from 1 to 65535", p)
		}
	}
	return ""
}

// Location returns the configured time zone (validated by Load).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// PurgeTime returns the hour and minute of recording.purge_at.
func (c *Config) PurgeTime() (hour, minute int, err error) {
	t, err := time.Parse("15:04", c.Recording.PurgeAt)
	if err != nil {
		return 0, 0, fmt.Errorf("must be a time of day HH:MM, like 03:30, not %q", c.Recording.PurgeAt)
	}
	return t.Hour(), t.Minute(), nil
}
