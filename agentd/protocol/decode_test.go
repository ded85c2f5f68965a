package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	long := `{"v":1,"type":"call.transfer","id":"x","data":{"call_id":"c","queue":"q","note":"` + strings.Repeat("a", MaxMessageSize) + `"}}`
	tests := []struct {
		name, in string
		code     Code
		field    string
		re       string
	}{
		{"empty", ``, CodeBadJSON, "", ""},
		{"not json", `hello`, CodeBadJSON, "", ""},
		{"array", `[1]`, CodeInvalidField, "", ""},
		{"truncated", `{"v":1,"type":"ping","id":"a"`, CodeBadJSON, "", ""},
		{"trailing", `{"v":1,"type":"ping","id":"a"}{}`, CodeBadJSON, "", ""},
		{"invalid utf8", "{\"v\":1,\"type\":\"ping\",\"id\":\"\xff\"}", CodeBadJSON, "", ""},
		{"too large", long, CodeTooLarge, "", ""},
		{"no version", `{"type":"ping","id":"a"}`, CodeBadVersion, "v", "a"},
		{"version 2", `{"v":2,"type":"ping","id":"a"}`, CodeBadVersion, "v", "a"},
		{"version string", `{"v":"1","type":"ping","id":"a"}`, CodeBadVersion, "v", "a"},
		{"no type", `{"v":1,"id":"a"}`, CodeUnknownType, "type", "a"},
		{"unknown type", `{"v":1,"type":"call.teleport","id":"a"}`, CodeUnknownType, "type", "a"},
		{"server type from client", `{"v":1,"type":"offer","id":"a","data":{}}`, CodeUnknownType, "type", "a"},
		{"unknown envelope key", `{"v":1,"type":"ping","id":"a","extra":1}`, CodeUnknownField, "extra", "a"},
		{"wrong case key", `{"v":1,"Type":"ping","id":"a"}`, CodeUnknownField, "Type", "a"},
		{"duplicate key", `{"v":1,"type":"ping","type":"hello","id":"a"}`, CodeUnknownField, "type", "a"},
		{"missing id", `{"v":1,"type":"ping"}`, CodeMissingField, "id", ""},
		{"bad id", `{"v":1,"type":"ping","id":"a b"}`, CodeInvalidField, "id", ""},
		{"unknown data key", `{"v":1,"type":"call.hangup","id":"a","data":{"call_id":"c","force":true}}`, CodeUnknownField, "data.force", "a"},
		{"nested unknown key", `{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c","update":{"kind":"information","category":"x","note":"typo"}}}`, CodeUnknownField, "data.update.note", "a"},
		{"missing data field", `{"v":1,"type":"call.hangup","id":"a","data":{}}`, CodeMissingField, "data.call_id", "a"},
		{"missing data", `{"v":1,"type":"offer.accept","id":"a"}`, CodeMissingField, "data.offer_id", "a"},
		{"wrong json type", `{"v":1,"type":"call.hangup","id":"a","data":{"call_id":5}}`, CodeInvalidField, "data.call_id", "a"},
		{"data not object", `{"v":1,"type":"call.hangup","id":"a","data":"c"}`, CodeInvalidField, "data", "a"},
		{"dtmf bad digit", `{"v":1,"type":"call.dtmf","id":"a","data":{"call_id":"c","digits":"12x"}}`, CodeInvalidField, "data.digits", "a"},
		{"dtmf lowercase", `{"v":1,"type":"call.dtmf","id":"a","data":{"call_id":"c","digits":"a"}}`, CodeInvalidField, "data.digits", "a"},
		{"dtmf too long", `{"v":1,"type":"call.dtmf","id":"a","data":{"call_id":"c","digits":"` + strings.Repeat("1", 33) + `"}}`, CodeInvalidField, "data.digits", "a"},
		{"dtmf empty", `{"v":1,"type":"call.dtmf","id":"a","data":{"call_id":"c","digits":""}}`, CodeMissingField, "data.digits", "a"},
		{"paused without reason", `{"v":1,"type":"state.set","id":"a","data":{"state":"paused"}}`, CodeMissingField, "data.reason", "a"},
		{"reason without pause", `{"v":1,"type":"state.set","id":"a","data":{"state":"available","reason":"x"}}`, CodeInvalidField, "data.reason", "a"},
		{"client sets on_call", `{"v":1,"type":"state.set","id":"a","data":{"state":"on_call"}}`, CodeInvalidField, "data.state", "a"},
		{"hello wrong protocol", `{"v":1,"type":"hello","id":"a","data":{"protocol":2}}`, CodeBadVersion, "data.protocol", "a"},
		{"hello fractional", `{"v":1,"type":"hello","id":"a","data":{"protocol":1.5}}`, CodeInvalidField, "data.protocol", "a"},
		{"wrapup both", `{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c","update":{"kind":"information","category":"x"},"link":{"number":"2026/1"}}}`, CodeInvalidField, "data.link", "a"},
		{"wrapup neither", `{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c"}}`, CodeMissingField, "data.update", "a"},
		{"wrapup bad article", `{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c","update":{"kind":"information","category":"x","articles":["kb-1","bad id"]}}}`, CodeInvalidField, "data.update.articles[1]", "a"},
		{"wrapup kind unknown", `{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c","update":{"kind":"unknown","category":"x"}}}`, CodeInvalidField, "data.update.kind", "a"},
		{"transfer note control char", `{"v":1,"type":"call.transfer","id":"a","data":{"call_id":"c","queue":"q","note":"a\u0007"}}`, CodeInvalidField, "data.note", "a"},
		{"sdp not sdp", `{"v":1,"type":"webrtc.offer","id":"a","data":{"sdp":"hello"}}`, CodeInvalidField, "data.sdp", "a"},
		{"deep nesting", `{"v":1,"type":"ping","id":"a","data":{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`, CodeBadJSON, "data", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode = %v, want an *Error", err)
			}
			if e.Code != tt.code || e.Field != tt.field || e.Re != tt.re {
				t.Errorf("got code=%s field=%q re=%q (%s), want code=%s field=%q re=%q", e.Code, e.Field, e.Re, e.Message, tt.code, tt.field, tt.re)
			}
			if e.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	for _, in := range []string{
		`{"v":1,"type":"ping","id":"a"}`,
		`{"v":1,"type":"ping","id":"a","data":null}`,
		`{"v":1,"type":"ping","id":"a","data":{}}`,
		` {"data":{},"id":"a","type":"ping","v":1} `,
		`{"v":1,"type":"webrtc.candidate","id":"a","data":{"candidate":""}}`,
		`{"v":1,"type":"call.dtmf","id":"a","data":{"call_id":"c","digits":"0123456789*#ABCD"}}`,
		`{"v":1,"type":"state.set","id":"a","data":{"state":"available","reason":null}}`,
		`{"v":1,"type":"wrapup.submit","id":"a","data":{"call_id":"c","link":{"number":"2026/02/004411"}}}`,
	} {
		if _, err := Decode([]byte(in)); err != nil {
			t.Errorf("Decode(%s) = %v", in, err)
		}
	}
}

func TestDecodeServerRejectsClientTypes(t *testing.T) {
	_, err := DecodeServer([]byte(`{"v":1,"type":"hello","id":"a","data":{"protocol":1}}`))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeUnknownType {
		t.Fatalf("got %v", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	if _, err := Encode(Envelope{Type: TypePing, ID: "a", Data: &Pong{}}); err == nil {
		t.Error("type/data mismatch encoded")
	}
	if _, err := Encode(NewEnvelope("a", &CallDTMF{CallID: "c", Digits: "x"})); err == nil {
		t.Error("invalid data encoded")
	}
	if _, err := Encode(NewEnvelope("", &Ping{})); err == nil {
		t.Error("client message without id encoded")
	}
	if _, err := Encode(Envelope{}); err == nil {
		t.Error("empty envelope encoded")
	}
}

func TestErrorReply(t *testing.T) {
	_, err := Decode([]byte(`{"v":1,"type":"call.dtmf","id":"c7","data":{"call_id":"c","digits":"x"}}`))
	b, encErr := Encode(ErrorReply("s1", err))
	if encErr != nil {
		t.Fatal(encErr)
	}
	want := `{"v":1,"type":"error","id":"s1","re":"c7","data":{"code":"invalid_field","message":"may contain only 0-9, *, # and A-D","field":"data.digits"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = Encode(ErrorReply("s2", errors.New("database password is hunter2")))
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), `"internal"`) {
		t.Errorf("internal error leaked or not coded: %s", b)
	}
}

func TestValidDTMF(t *testing.T) {
	for s, ok := range map[string]bool{"1": true, "*#": true, "ABCD": true, "": false, "e": false, "1 2": false} {
		if ValidDTMF(s) != ok {
			t.Errorf("ValidDTMF(%q) = %v", s, !ok)
		}
	}
}
