package protocol

import "time"

func ptr[T any](v T) *T { return &v }

var (
	t0 = time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)
	t1 = t0.Add(12 * time.Second)
)

// examples holds one envelope per message type: the golden files are their encodings.
var examples = map[Type]Envelope{
	TypeHello:       NewEnvelope("c1", &Hello{Protocol: 1, Client: "kontakt-web/0.1.0", ResumeToken: "rt_6f1d2c9a"}),
	TypeStateSet:    NewEnvelope("c2", &StateSet{State: StatePaused, Reason: "break"}),
	TypeOfferAccept: NewEnvelope("c3", &OfferAccept{OfferID: "o-481"}),
	TypeOfferReject: NewEnvelope("c4", &OfferReject{OfferID: "o-481", Reason: "not_ready"}),
	TypeCallHangup:  NewEnvelope("c5", &CallHangup{CallID: "call-1742031000.42"}),
	TypeCallHold:    NewEnvelope("c6", &CallHold{CallID: "call-1742031000.42"}),
	TypeCallResume:  NewEnvelope("c7", &CallResume{CallID: "call-1742031000.42"}),
	TypeCallMute:    NewEnvelope("c8", &CallMute{CallID: "call-1742031000.42"}),
	TypeCallUnmute:  NewEnvelope("c9", &CallUnmute{CallID: "call-1742031000.42"}),
	TypeCallDTMF:    NewEnvelope("c10", &CallDTMF{CallID: "call-1742031000.42", Digits: "12#"}),
	TypeCallTransfer: NewEnvelope("c11", &CallTransfer{CallID: "call-1742031000.42", Queue: "brokers-waste",
		Note: "Resident asks about a fee for bulky waste; needs the regulation."}),
	TypeCallRecordPause:  NewEnvelope("c14", &CallRecordPause{CallID: "call-1742031000.42"}),
	TypeCallRecordResume: NewEnvelope("c15", &CallRecordResume{CallID: "call-1742031000.42"}),
	TypeWrapupSubmit: NewEnvelope("c12", &WrapupSubmit{CallID: "call-1742031000.42", Update: &TicketUpdate{
		Kind: KindIntervention, Category: "waste.bulky", Unit: "waste-management",
		Notes: "Sofa dumped next to the bins at Puławska 12.\nResident will send a photo.", Articles: []string{"kb-412"}}}),
	TypePing: NewEnvelope("c13", &Ping{}),

	TypeWelcome: Reply("s1", "c1", &Welcome{
		Protocol: 1, Server: "kontakt 0.1.0", Session: "sess-9b7e", ResumeToken: "rt_6f1d2c9a",
		Agent:          Agent{ID: "u-17", Name: "Anna Nowak", Roles: []string{"consultant"}},
		State:          StateInfo{State: StatePaused, Reason: "sign_in", Since: t0},
		PingIntervalMS: 15000, GraceMS: 30000,
		ICEServers: []ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}},
	}),
	TypeState: Reply("s2", "c2", &State{State: StatePaused, Reason: "break", Since: t0}),
	TypeOffer: NewEnvelope("s3", &Offer{
		OfferID: "o-481", CallID: "call-1742031000.42", Queue: "waste", ExpiresAt: t1,
		Caller: Caller{Number: "+48600100200"}, Language: "pl", WaitedMS: 41250,
		Ticket: Ticket{Number: "2026/03/000123", Kind: KindUnknown, Status: "new", Channel: "phone",
			CreatedAt: t0.Add(-45 * time.Second), Fields: map[string]string{"district": "Mokotów"}},
		RecentTickets: []TicketSummary{{Number: "2026/02/004411", Kind: KindIntervention, Status: "forwarded",
			Category: "roads.pothole", Summary: "Pothole at Puławska 12", CreatedAt: t0.AddDate(0, -1, -3)}},
		IVRPath: []IVRStep{
			{Node: "welcome", Label: "Powitanie"},
			{Node: "language", Label: "Wybór języka", Digits: "1"},
			{Node: "topics", Label: "Tematy", Digits: "3"},
		},
		Articles: []Article{{ID: "kb-412", Title: "Odbiór odpadów wielkogabarytowych"}},
	}),
	TypeOfferCancelled:    NewEnvelope("s4", &OfferCancelled{OfferID: "o-481", CallID: "call-1742031000.42", Reason: "caller_hangup"}),
	TypeCallConnected:     Reply("s5", "c3", &CallConnected{CallID: "call-1742031000.42", OfferID: "o-481", At: t0}),
	TypeCallHeld:          NewEnvelope("s6", &CallHeld{CallID: "call-1742031000.42", At: t0}),
	TypeCallResumed:       NewEnvelope("s7", &CallResumed{CallID: "call-1742031000.42", At: t1}),
	TypeCallRecordPaused:  Reply("s14", "c14", &CallRecordPaused{CallID: "call-1742031000.42", At: t0}),
	TypeCallRecordResumed: Reply("s15", "c15", &CallRecordResumed{CallID: "call-1742031000.42", At: t1}),
	TypeCallEnded:         NewEnvelope("s8", &CallEnded{CallID: "call-1742031000.42", Reason: "caller_hangup", At: t1, DurationMS: 12000}),
	TypeWrapupStarted:     NewEnvelope("s9", &WrapupStarted{CallID: "call-1742031000.42", TicketNumber: "2026/03/000123", Deadline: t1.Add(2 * time.Minute)}),
	TypeWrapupEnded:       Reply("s10", "c12", &WrapupEnded{CallID: "call-1742031000.42", TicketNumber: "2026/03/000123", Reason: "submitted"}),
	TypeAck:               Reply("s11", "c8", &Ack{}),
	TypeError:             Reply("s12", "c10", &Error{Code: CodeInvalidField, Message: "may contain only 0-9, *, # and A-D", Field: "data.digits"}),
	TypePong:              Reply("s13", "c13", &Pong{}),

	TypeWebRTCOffer:  NewEnvelope("c20", &WebRTCOffer{SDP: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}),
	TypeWebRTCAnswer: Reply("s20", "c20", &WebRTCAnswer{SDP: "v=0\r\no=- 1742031000 1742031000 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}),
	TypeWebRTCCandidate: NewEnvelope("s21", &WebRTCCandidate{
		Candidate: "candidate:1 1 udp 2130706431 203.0.113.7 50000 typ host",
		SDPMid:    ptr("0"), SDPMLineIndex: ptr(uint16(0)), UsernameFragment: ptr("kQzp")}),
	TypeWebRTCRestart: NewEnvelope("c21", &WebRTCRestart{}),
}
