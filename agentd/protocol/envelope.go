package protocol

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Version is the protocol version this package speaks; every envelope carries it in "v".
const Version = 1

// MaxMessageSize is the largest frame, in bytes, that Decode accepts. Servers should also set it
// as the WebSocket read limit so a larger frame never reaches memory.
const MaxMessageSize = 64 << 10

// Envelope is one frame: version, type, sender-chosen id, the id it replies to, and the payload.
// Data's concrete type is fixed by Type (e.g. TypeCallDTMF ↔ *CallDTMF).
type Envelope struct {
	V    int
	Type Type
	ID   string
	Re   string
	Data Message
}

// NewEnvelope returns an envelope of the current version carrying m, with the given id.
func NewEnvelope(id string, m Message) Envelope {
	return Envelope{V: Version, Type: m.Type(), ID: id, Data: m}
}

// Reply returns an envelope answering the frame whose id is re.
func Reply(id, re string, m Message) Envelope {
	return Envelope{V: Version, Type: m.Type(), ID: id, Re: re, Data: m}
}

// wire is the JSON shape of an envelope; the order of the fields is the order on the wire.
type wire struct {
	V    int             `json:"v"`
	Type Type            `json:"type"`
	ID   string          `json:"id,omitempty"`
	Re   string          `json:"re,omitempty"`
	Data json.RawMessage `json:"data"`
}

// Encode validates env and returns its JSON. An empty V or Type is filled in from Version and
// Data; a Type that disagrees with Data, or invalid data, is an error (*Error with the field).
func Encode(env Envelope) ([]byte, error) {
	if env.Data == nil {
		return nil, errorf(CodeMissingField, "data", "envelope has no data")
	}
	if env.V == 0 {
		env.V = Version
	}
	if env.Type == "" {
		env.Type = env.Data.Type()
	}
	if env.V != Version {
		return nil, errorf(CodeBadVersion, "v", "version %d is not %d", env.V, Version)
	}
	if env.Type != env.Data.Type() {
		return nil, errorf(CodeUnknownType, "type", "type %q does not match data of type %q", env.Type, env.Data.Type())
	}
	if err := checkIDs(env, registry[env.Type].dir == ToServer); err != nil {
		return nil, err
	}
	if err := env.Data.validate(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(env.Data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wire{V: env.V, Type: env.Type, ID: env.ID, Re: env.Re, Data: data})
}

// Decode parses a frame sent by a client (consultant, broker or supervisor browser, headless
// agent) to the server. Any failure is an *Error with a stable Code; Re is set to the frame's id
// when it could be read, so the server can answer with ErrorReply.
func Decode(b []byte) (Envelope, error) { return decode(b, ToServer) }

// DecodeServer parses a frame sent by the server to a client. It is what a client (the headless
// agent, tests) uses; it is as strict as Decode.
func DecodeServer(b []byte) (Envelope, error) { return decode(b, ToClient) }

func decode(b []byte, dir Direction) (Envelope, error) {
	env, err := decodeEnvelope(b, dir)
	if err != nil {
		if err.Re == "" && err.Code != CodeTooLarge {
			err.Re = peekID(b)
		}
		return Envelope{}, err
	}
	return env, nil
}

func decodeEnvelope(b []byte, dir Direction) (Envelope, *Error) {
	if len(b) > MaxMessageSize {
		return Envelope{}, errorf(CodeTooLarge, "", "frame of %d bytes exceeds the limit of %d", len(b), MaxMessageSize)
	}
	if !utf8.Valid(b) {
		return Envelope{}, errorf(CodeBadJSON, "", "frame is not valid UTF-8")
	}
	if e := strict(b, wireType, ""); e != nil {
		if e.Field == "v" {
			e.Code = CodeBadVersion
		}
		return Envelope{}, e
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil { // cannot fail after strict; kept as a guard
		return Envelope{}, errorf(CodeBadJSON, "", "%v", err)
	}
	if w.V != Version {
		if w.V == 0 {
			return Envelope{}, errorf(CodeBadVersion, "v", "v is missing; this server speaks version %d", Version)
		}
		return Envelope{}, errorf(CodeBadVersion, "v", "version %d is not supported; this server speaks version %d", w.V, Version)
	}
	if w.Type == "" {
		return Envelope{}, errorf(CodeUnknownType, "type", "type is missing")
	}
	info, ok := registry[w.Type]
	if !ok {
		return Envelope{}, errorf(CodeUnknownType, "type", "unknown message type %q", w.Type)
	}
	if info.dir&dir == 0 {
		who := "the server"
		if dir == ToClient {
			who = "a client"
		}
		return Envelope{}, errorf(CodeUnknownType, "type", "%q is not a message %s receives", w.Type, who)
	}
	env := Envelope{V: w.V, Type: w.Type, ID: w.ID, Re: w.Re}
	if e := checkIDs(env, dir == ToServer); e != nil {
		return Envelope{}, e
	}
	env.Data = info.new()
	data := []byte(w.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		data = []byte("{}")
	}
	if e := strict(data, typeOf(env.Data), "data"); e != nil {
		e.Re = w.ID
		return Envelope{}, e
	}
	if err := json.Unmarshal(data, env.Data); err != nil {
		e := errorf(CodeInvalidField, "data", "%v", err)
		e.Re = w.ID
		return Envelope{}, e
	}
	if e := env.Data.validate(); e != nil {
		e.Re = w.ID
		return Envelope{}, e
	}
	return env, nil
}

// checkIDs checks the envelope's id and re; idRequired is true for client messages.
func checkIDs(env Envelope, idRequired bool) *Error {
	if env.ID == "" {
		if idRequired {
			return errorf(CodeMissingField, "id", "id is required on every client message")
		}
	} else if e := ident("id", env.ID); e != nil {
		return e
	}
	if env.Re != "" {
		if e := ident("re", env.Re); e != nil {
			return e
		}
	}
	return nil
}

// peekID reads the envelope's id from a frame that failed to decode, if it is there and sane.
func peekID(b []byte) string {
	var w struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &w) != nil || ident("id", w.ID) != nil {
		return ""
	}
	return w.ID
}

// MarshalJSON encodes the envelope as Encode does, so it can be handed to any JSON writer
// (e.g. websocket.Conn.WriteJSON).
func (env Envelope) MarshalJSON() ([]byte, error) { return Encode(env) }
