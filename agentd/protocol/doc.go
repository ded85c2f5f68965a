// Package protocol defines the WebSocket protocol spoken between agentd and the browsers of
// consultants, brokers and supervisors: typed JSON envelopes, their validation, and a per-connection
// ordering checker. It does no I/O; the HTTP/WebSocket server decodes each frame with [Decode],
// runs it through a [Checker], acts on it, and writes replies built with [NewEnvelope] / [Reply]
// and encoded with [Encode]. PROTOCOL.md in this directory documents every message with an
// example; a test keeps the document and the code in step.
//
// # Envelope
//
// Every frame is one JSON object:
//
//	{"v":1,"type":"call.dtmf","id":"c-12","re":"","data":{"call_id":"…","digits":"12#"}}
//
// v is the protocol version ([Version]); type names the message; id is chosen by the sender
// (required on client messages, unique per connection); re, on a reply or an error, is the id of
// the message it answers; data is the typed payload ([Message]), whose Go type is fixed by type.
//
// # Decoding
//
// [Decode] parses a client→server frame, [DecodeServer] a server→client frame (for the headless
// agent and tests). Both are strict: at most [MaxMessageSize] bytes, valid UTF-8, one JSON object,
// no unknown, duplicate or wrongly-cased keys, a known type for that direction, [Version], and
// every field valid. A failure is always an [*Error] with a stable [Code] (bad_json, too_large,
// unknown_type, bad_version, unknown_field, missing_field, invalid_field, …), a message, the JSON
// path of the offending field where there is one, and Re set to the frame's id when it could be
// read, so the server can answer with [ErrorReply] and keep the connection.
//
// # Ordering
//
// [Checker] is a pure state machine per connection: [Checker.Sent] records what the server sent
// (welcome, offer, call.connected, call.ended, wrapup.started, …) and [Checker.Received] says
// whether a client message may come now: nothing before hello (hello_required), no second hello,
// no offer.accept without an outstanding offer, no call control without a connected call, no
// wrapup.submit outside wrap-up (out_of_order). The server still owns the business rules (roles,
// queues, tickets); the checker only stops frames that cannot make sense at this point.
package protocol
