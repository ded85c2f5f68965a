package protocol

// WebSocket close codes the server uses (RFC 6455 §7.4; 4000–4999 are the application's).
// A client reconnects (with its resume token, backing off) after every code except
// CloseReplaced, CloseUnauthorized and CloseBadVersion.
const (
	CloseNormal        = 1000 // sign-out, or the client closed
	CloseGoingAway     = 1001 // the server is shutting down or draining: reconnect (to another node)
	ClosePolicy        = 1008 // cross-origin or forbidden upgrade
	CloseTooBig        = 1009 // a frame larger than MaxMessageSize
	CloseInternal      = 1011 // unexpected server failure
	CloseReplaced      = 4000 // the same user signed in on another connection
	CloseUnauthorized  = 4001 // no valid session cookie, or the session ended (sign-out everywhere)
	CloseBadVersion    = 4002 // the client speaks a protocol version the server does not
	CloseHelloTimeout  = 4003 // no hello within the hello timeout after the upgrade
	ClosePingTimeout   = 4004 // no ping (or other frame) within twice ping_interval_ms
	CloseTooManyErrors = 4005 // too many rejected frames in a row
)

// CloseCodes lists the close codes above, in documentation order.
func CloseCodes() []int {
	return []int{CloseNormal, CloseGoingAway, ClosePolicy, CloseTooBig, CloseInternal, CloseReplaced,
		CloseUnauthorized, CloseBadVersion, CloseHelloTimeout, ClosePingTimeout, CloseTooManyErrors}
}
