package switchboard

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
)

// Media is an agent's media leg for one call: the relay's UDP socket that Asterisk's
// externalMedia channel sends to, and where Asterisk's side is once known.
type Media interface {
	LocalAddr() *net.UDPAddr
	SetRemote(*net.UDPAddr)
}

// ConnectAgent bridges the caller with an agent: an externalMedia channel (RTP, PCMU, no
// transcoding) toward the agent's relay leg joins the call's bridge, and music on hold stops.
// It returns the externalMedia channel's id.
func (c *Call) ConnectAgent(ctx context.Context, leg Media) (string, error) {
	if err := c.check(ctx); err != nil {
		return "", err
	}
	id := ownPrefix + "x-" + newID()
	c.sb.register(c, ari.ChannelKey+":"+id)
	t := time.Now()
	_, err := c.sb.ari.Channel().ExternalMedia(nil, ari.ExternalMediaOptions{
		ChannelID: id, App: c.sb.o.ARI.App, ExternalHost: leg.LocalAddr().String(),
		Encapsulation: "rtp", Transport: "udp", ConnectionType: "client", Format: "ulaw", Direction: "both",
	})
	c.sb.m.observe("external_media", t)
	if err != nil {
		return "", c.fail("external media", err)
	}
	c.agentLeg = id
	key := ari.NewKey(ari.ChannelKey, id)
	host, err := c.sb.ari.Channel().GetVariable(key, "UNICASTRTP_LOCAL_ADDRESS")
	if err != nil {
		return id, fmt.Errorf("external media address: %w", err)
	}
	port, err := c.sb.ari.Channel().GetVariable(key, "UNICASTRTP_LOCAL_PORT")
	if err != nil {
		return id, fmt.Errorf("external media port: %w", err)
	}
	p, _ := strconv.Atoi(port)
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		// Asterisk's RTP socket is bound to every address (rtp.conf has no bindaddr); it sends
		// to external_host from the address that routes there: the relay's own.
		ip = leg.LocalAddr().IP
	}
	c.log.Debug("agent media connected", "external_media", id, "asterisk_rtp", net.JoinHostPort(ip.String(), port), "relay", leg.LocalAddr())
	leg.SetRemote(&net.UDPAddr{IP: ip, Port: p})
	// The channel joins the application asynchronously: adding it to the bridge before its
	// StasisStart is refused (422, "not in Stasis application").
	if err := c.awaitStasisStart(ctx, id, 5*time.Second); err != nil {
		return id, err
	}
	t = time.Now()
	err = c.sb.ari.Bridge().AddChannel(ari.NewKey(ari.BridgeKey, c.bridgeID), id)
	c.sb.m.observe("bridge_add", t)
	if err != nil {
		return id, c.fail("add agent to bridge", err)
	}
	c.StopMOH()
	return id, nil
}

// awaitStasisStart waits until the channel id (one of the call's own, registered) has entered
// the application; the call's other events stay queued for Next.
func (c *Call) awaitStasisStart(ctx context.Context, id string, limit time.Duration) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		for _, ev := range c.mb.take() {
			c.observe(ev)
			if st, ok := ev.ARI.(*ari.StasisStart); ok && st.Channel.ID == id {
				return nil
			}
			if !isHangupEvent(ev) {
				c.pending = append(c.pending, ev)
			}
		}
		if c.gone {
			return ErrHangup
		}
		select {
		case <-c.mb.ready():
		case <-timer.C:
			return fmt.Errorf("the agent's media channel %s did not enter the application within %s", id, limit)
		case <-ctx.Done():
			return errForced
		}
	}
}

// DisconnectAgent hangs up the agent's externalMedia channel (Asterisk keeps it up forever
// otherwise: it has no RTP timeout).
func (c *Call) DisconnectAgent() {
	if c.agentLeg == "" {
		return
	}
	id := c.agentLeg
	c.agentLeg = ""
	t := time.Now()
	err := c.sb.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), "normal")
	c.sb.m.observe("hangup", t)
	if err != nil && !isNotFound(err) {
		c.log.Warn("agent leg hangup failed", "channel", id, "err", err)
	}
	c.sb.unregister(ari.ChannelKey + ":" + id)
}

// StartMOH plays music on hold to the caller.
func (c *Call) StartMOH(class string) error {
	if class == "" {
		class = "default"
	}
	t := time.Now()
	err := c.sb.ari.Channel().MOH(ari.NewKey(ari.ChannelKey, c.ChannelID), class)
	c.sb.m.observe("moh", t)
	if err != nil {
		return c.fail("music on hold", err)
	}
	return nil
}

// StopMOH stops music on hold.
func (c *Call) StopMOH() {
	t := time.Now()
	err := c.sb.ari.Channel().StopMOH(ari.NewKey(ari.ChannelKey, c.ChannelID))
	c.sb.m.observe("moh_stop", t)
	if err != nil && !isNotFound(err) {
		c.log.Debug("stop music on hold", "err", err)
	}
}

// SendDTMF sends digits to the caller.
func (c *Call) SendDTMF(digits string) error {
	t := time.Now()
	err := c.sb.ari.Channel().SendDTMF(ari.NewKey(ari.ChannelKey, c.ChannelID), digits, &ari.DTMFOptions{Duration: 100 * time.Millisecond, Between: 100 * time.Millisecond})
	c.sb.m.observe("dtmf", t)
	return err
}

// StartRecording records the conversation through a snoop channel on the caller (both
// directions) into Asterisk's recording spool as <name>.wav. Recording the bridge itself would
// turn it into a mixing bridge and add latency; a snoop does not. It returns the snoop's id.
func (c *Call) StartRecording(ctx context.Context, name string) (string, error) {
	if err := c.check(ctx); err != nil {
		return "", err
	}
	id := ownPrefix + "s-" + newID()
	c.sb.register(c, ari.ChannelKey+":"+id)
	t := time.Now()
	_, err := c.sb.ari.Channel().Snoop(ari.NewKey(ari.ChannelKey, c.ChannelID), id,
		&ari.SnoopOptions{App: c.sb.o.ARI.App, Spy: ari.DirectionBoth})
	c.sb.m.observe("snoop", t)
	if err != nil {
		c.sb.unregister(ari.ChannelKey + ":" + id)
		return "", c.fail("snoop", err)
	}
	opts := &ari.RecordingOptions{Format: "wav", Exists: "overwrite", MaxDuration: 4 * time.Hour}
	for attempt := 0; ; attempt++ {
		t = time.Now()
		_, err = c.sb.ari.Channel().Record(ari.NewKey(ari.ChannelKey, id), name, opts)
		c.sb.m.observe("record", t)
		// The snoop channel may not have entered the application yet: try again shortly.
		if err == nil || attempt >= 10 || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.StopRecording(id)
		return "", fmt.Errorf("record: %w", err)
	}
	return id, nil
}

// PauseRecording pauses (paused) or resumes the live recording name, started with
// StartRecording. Asterisk's own recording pause (POST /recordings/live/{name}/pause) drops the
// paused audio, so the file would close up around the gap and no longer follow the call's clock;
// Kontakt uses the recording's mute instead (POST /recordings/live/{name}/mute, DELETE to end it),
// for which Asterisk writes silence in place of every frame: the paused stretch stays in the file
// as silence of the same length, at the offset the recording's metadata gives.
//
// Right after StartRecording the recording may still be queued (Asterisk answers 409 until the
// snoop has started writing): the request is repeated for up to a second.
func (c *Call) PauseRecording(name string, paused bool) error {
	key := ari.NewKey(ari.LiveRecordingKey, name)
	var err error
	for attempt := 0; ; attempt++ {
		t := time.Now()
		if paused {
			err = c.sb.ari.LiveRecording().Mute(key)
		} else {
			err = c.sb.ari.LiveRecording().Unmute(key)
		}
		c.sb.m.observe("record_pause", t)
		if err == nil || native.CodeFromError(err) != 409 || attempt >= 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("pause recording %s: %w", name, err)
	}
	return nil
}

// StopRecording ends a recording started with StartRecording (its snoop channel is hung up;
// Asterisk closes the file).
func (c *Call) StopRecording(snoopID string) {
	t := time.Now()
	err := c.sb.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, snoopID), "normal")
	c.sb.m.observe("hangup", t)
	if err != nil && !isNotFound(err) {
		c.log.Warn("stopping the recording failed", "snoop", snoopID, "err", err)
	}
	c.sb.unregister(ari.ChannelKey + ":" + snoopID)
}
