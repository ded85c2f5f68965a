package media

import (
	"github.com/pion/webrtc/v4"

	"kontakt/agentd/protocol"
)

// The protocol's webrtc.candidate payload converts to and from pion's candidate as it is, so the
// server and the headless agent pass candidates through without copying fields.
var (
	_ = webrtc.ICECandidateInit(protocol.WebRTCCandidate{})
	_ = protocol.WebRTCCandidate(webrtc.ICECandidateInit{})
)
