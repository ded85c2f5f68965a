package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Config describes the server's WebRTC media: where ICE listens and which addresses it
// advertises. The zero value gathers host candidates on every non-loopback interface, on
// ephemeral ports.
type Config struct {
	// UDPMux, if set ("host:port", e.g. ":50000"), makes every agent's ICE share this one UDP
	// port (ICE UDP mux): the simplest firewall rule. It overrides PortMin/PortMax.
	UDPMux string
	// PortMin–PortMax bound the ephemeral UDP ports of per-agent ICE sockets (both 0: any).
	PortMin, PortMax uint16
	// PublicIPs (NAT 1:1): advertise these addresses in host candidates instead of the local ones,
	// for a server behind a 1:1 NAT (cloud elastic IP). Ports are unchanged.
	PublicIPs []string
	// Interfaces, if not empty, restricts gathering to these network interfaces.
	Interfaces []string
	// Networks, if not empty, restricts gathering to addresses in these prefixes
	// (e.g. "127.0.0.1/32", "10.77.0.0/24").
	Networks []string
	// IncludeLoopback gathers loopback candidates (127.0.0.1): for tests and same-host agents.
	IncludeLoopback bool
	// RelayIP is the local address of the RTP sockets facing Asterisk (externalMedia's
	// external_host). Default 127.0.0.1.
	RelayIP string
	// ICE timeouts; zero keeps pion's defaults (disconnected 5 s, failed 25 s, keep-alive 2 s).
	DisconnectedTimeout, FailedTimeout, KeepAliveInterval time.Duration
	// Logger receives the package's and pion's logs; nil discards them.
	Logger *slog.Logger
}

// Engine is the process's one WebRTC API, built from a Config: PCMU only, full ICE (never
// ICE-lite), mDNS off, RTCP reports on. It creates a Session per signed-in agent.
type Engine struct {
	api     *webrtc.API
	mux     ice.UDPMux
	relayIP netip.Addr
	log     *slog.Logger
	// remoteOK, when set, says which remote candidate addresses ICE may try: with Networks
	// configured, only addresses in them (and loopback with IncludeLoopback), so no check is ever
	// sent to an address outside the networks the softphones are meant to use.
	remoteOK func(netip.Addr) bool
}

// PCMU is the only codec the engine negotiates: G.711 µ-law, 8 kHz, mono, payload type 0.
var PCMU = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}

// New builds the Engine. With UDPMux set it binds that port at once (and Close releases it).
func New(cfg Config) (*Engine, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "media")
	e := &Engine{log: log}
	var remoteOK func(netip.Addr) bool
	defer func() { e.remoteOK = remoteOK }()
	relay := cfg.RelayIP
	if relay == "" {
		relay = "127.0.0.1"
	}
	var err error
	if e.relayIP, err = netip.ParseAddr(relay); err != nil {
		return nil, fmt.Errorf("media: relay IP %q: %w", relay, err)
	}

	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: PCMU, PayloadType: 0}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}

	s := webrtc.SettingEngine{LoggerFactory: slogFactory{log}}
	s.SetLite(false)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	s.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if cfg.DisconnectedTimeout != 0 || cfg.FailedTimeout != 0 || cfg.KeepAliveInterval != 0 {
		d, f, k := cfg.DisconnectedTimeout, cfg.FailedTimeout, cfg.KeepAliveInterval
		if d == 0 {
			d = 5 * time.Second
		}
		if f == 0 {
			f = 25 * time.Second
		}
		if k == 0 {
			k = 2 * time.Second
		}
		s.SetICETimeouts(d, f, k)
	}
	if len(cfg.Interfaces) > 0 {
		ifaces := slices.Clone(cfg.Interfaces)
		s.SetInterfaceFilter(func(name string) bool { return slices.Contains(ifaces, name) })
	}
	if len(cfg.Networks) > 0 {
		var prefixes []netip.Prefix
		for _, n := range cfg.Networks {
			p, err := netip.ParsePrefix(n)
			if err != nil {
				return nil, fmt.Errorf("media: network %q: %w", n, err)
			}
			prefixes = append(prefixes, p)
		}
		s.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			if !ok {
				return false
			}
			a = a.Unmap()
			return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a) })
		})
		loop := cfg.IncludeLoopback
		remoteOK = func(a netip.Addr) bool {
			a = a.Unmap()
			return (loop && a.IsLoopback()) || slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a) })
		}
	}
	if len(cfg.PublicIPs) > 0 {
		if err := s.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: slices.Clone(cfg.PublicIPs), AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("media: public IPs: %w", err)
		}
	}
	switch {
	case cfg.UDPMux != "":
		addr, err := net.ResolveUDPAddr("udp", cfg.UDPMux)
		if err != nil {
			return nil, fmt.Errorf("media: UDP mux address %q: %w", cfg.UDPMux, err)
		}
		conn, err := net.ListenUDP("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("media: UDP mux: %w", err)
		}
		e.mux = webrtc.NewICEUDPMux(slogFactory{log}.NewLogger("udpmux"), conn)
		s.SetICEUDPMux(e.mux)
	case cfg.PortMin != 0 || cfg.PortMax != 0:
		if err := s.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("media: port range %d-%d: %w", cfg.PortMin, cfg.PortMax, err)
		}
	}
	e.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s))
	return e, nil
}

// API returns the underlying pion API (the headless agent builds its client peer from it).
func (e *Engine) API() *webrtc.API { return e.api }

// MuxAddr returns the local address of the shared ICE UDP port, or nil without UDPMux.
func (e *Engine) MuxAddr() net.Addr {
	if e.mux == nil {
		return nil
	}
	addrs := e.mux.GetListenAddresses()
	if len(addrs) == 0 {
		return nil
	}
	return addrs[0]
}

// Close releases the shared UDP port. Close every Session first.
func (e *Engine) Close() error {
	if e.mux != nil {
		return e.mux.Close()
	}
	return nil
}

// ErrClosed is returned by the methods of a closed Session.
var ErrClosed = errors.New("media: session closed")

// slogFactory adapts pion's leveled loggers to slog; pion's trace goes to debug - 4.
type slogFactory struct{ log *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{f.log.With("pion", scope)}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) emit(level slog.Level, msg string) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, msg)
	}
}
func (l slogLogger) emitf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}
func (l slogLogger) Trace(msg string)                  { l.emit(slog.LevelDebug-4, msg) }
func (l slogLogger) Tracef(format string, args ...any) { l.emitf(slog.LevelDebug-4, format, args...) }
func (l slogLogger) Debug(msg string)                  { l.emit(slog.LevelDebug, msg) }
func (l slogLogger) Debugf(format string, args ...any) { l.emitf(slog.LevelDebug, format, args...) }
func (l slogLogger) Info(msg string)                   { l.emit(slog.LevelInfo, msg) }
func (l slogLogger) Infof(format string, args ...any)  { l.emitf(slog.LevelInfo, format, args...) }
func (l slogLogger) Warn(msg string)                   { l.emit(slog.LevelWarn, msg) }
func (l slogLogger) Warnf(format string, args ...any)  { l.emitf(slog.LevelWarn, format, args...) }
func (l slogLogger) Error(msg string)                  { l.emit(slog.LevelError, msg) }
func (l slogLogger) Errorf(format string, args ...any) { l.emitf(slog.LevelError, format, args...) }
