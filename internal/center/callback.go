package center

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kontakt/acd"
	"kontakt/agentd"
	"kontakt/agentd/protocol"
	"kontakt/internal/crm"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
	"kontakt/internal/ticket"
	"kontakt/ivr"
)

// Dialer places the calls to residents that callbacks need (the switchboard).
type Dialer interface {
	Dial(ctx context.Context, r switchboard.DialRequest) (*switchboard.Call, error)
}

// CallbackOptions configure callbacks.
type CallbackOptions struct {
	// OfferAfter is how long a caller waits before hearing the callback offer (0: never).
	OfferAfter time.Duration
	// Endpoint is the dial string, with {number} replaced by the resident's number.
	Endpoint string
	// CallerID is the number the resident's phone shows.
	CallerID string
	// Attempts, Retry and Ring: how many calls, how far apart, each ringing how long.
	Attempts    int
	Retry, Ring time.Duration
}

// pendingCallback is a callback holding a caller's place (the engine's virtual caller).
type pendingCallback struct {
	number  string
	attempt int                // the attempt under way or last made
	dialing bool               // an attempt is ringing the resident
	cancel  context.CancelFunc // gives the ringing attempt up
	// line is the resident's own call that booked the callback, while it lasts: the resident is
	// not dialled while still on it.
	line *switchboard.Call
}

// The callback dialogue of a waiting caller.
type cbStage int

const (
	cbNone    cbStage = iota
	cbOffered         // the offer was made: 1 books
	cbConfirm         // "we will call you on …": 1 confirms, 2 gives another number
	cbEnter           // keying a number, ended by #
)

type cbDialog struct {
	stage  cbStage
	number string    // the number to call back
	digits string    // keyed so far
	until  time.Time // keys awaited until then
	tries  int       // prompts repeated without an answer, numbers refused
}

// cbKeyTimeout is how long the dialogue waits for a key after its prompt.
const cbKeyTimeout = 8 * time.Second

// cbTexts are the callback dialogue's prompts, per language.
var cbTexts = map[ivr.Lang]struct{ offer, confirm, enter, invalid, booked, greeting, late string }{
	ivr.LangPL: {
		offer:    "Jeśli nie chcesz czekać, możemy do Ciebie oddzwonić, a Twoje miejsce w kolejce zostanie zachowane. Aby zamówić oddzwonienie, naciśnij 1.",
		confirm:  "Oddzwonimy pod numer %s. Aby potwierdzić, naciśnij 1. Aby podać inny numer, naciśnij 2.",
		enter:    "Wpisz numer telefonu, pod który mamy oddzwonić, i zakończ krzyżykiem.",
		invalid:  "Ten numer telefonu jest nieprawidłowy.",
		booked:   "Dziękujemy. Zachowujesz swoje miejsce w kolejce. Oddzwonimy, gdy nadejdzie Twoja kolej. Do usłyszenia.",
		greeting: "Dzień dobry, tu miejskie centrum kontaktu 19115. Oddzwaniamy, tak jak prosiłeś. Łączymy z konsultantem.",
		late:     "Dzień dobry, tu miejskie centrum kontaktu 19115. Przepraszamy, konsultant jest teraz zajęty. Zadzwonimy ponownie.",
	},
	ivr.LangEN: {
		offer:    "If you would rather not wait, we can call you back and keep your place in the queue. To be called back, press 1.",
		confirm:  "We will call you back on %s. To confirm, press 1. To give a different number, press 2.",
		enter:    "Key in the phone number we should call you back on, followed by the hash key.",
		invalid:  "That phone number is not valid.",
		booked:   "Thank you. You keep your place in the queue, and we will call you back when your turn comes. Goodbye.",
		greeting: "Hello, this is the city contact centre 19115, calling you back as you asked. Connecting you with a consultant.",
		late:     "Hello, this is the city contact centre 19115. We are sorry, the consultant is busy now. We will call you again.",
	},
	ivr.LangUK: {
		offer:    "Якщо ви не хочете чекати, ми можемо передзвонити вам і зберегти ваше місце в черзі. Щоб замовити зворотний дзвінок, натисніть 1.",
		confirm:  "Ми передзвонимо на номер %s. Щоб підтвердити, натисніть 1. Щоб вказати інший номер, натисніть 2.",
		enter:    "Введіть номер телефону, на який нам передзвонити, і завершіть клавішею решітка.",
		invalid:  "Цей номер телефону недійсний.",
		booked:   "Дякуємо. Ваше місце в черзі збережено. Ми передзвонимо, коли настане ваша черга. До побачення.",
		greeting: "Добрий день, це міський контакт-центр 19115. Ми передзвонюємо, як ви просили. З'єднуємо з консультантом.",
		late:     "Добрий день, це міський контакт-центр 19115. Вибачте, консультант зараз зайнятий. Ми зателефонуємо ще раз.",
	},
}

func cbText(lang ivr.Lang) (ivr.Lang, struct{ offer, confirm, enter, invalid, booked, greeting, late string }) {
	if t, ok := cbTexts[lang]; ok {
		return lang, t
	}
	return ivr.LangPL, cbTexts[ivr.LangPL]
}

// callbackNumber reports whether n can be called back: 9 to 15 digits, optionally after +.
func callbackNumber(n string) bool {
	d := strings.TrimPrefix(n, "+")
	if len(d) < 9 || len(d) > 15 {
		return false
	}
	return strings.Trim(d, "0123456789") == ""
}

// spoken reads a number out digit by digit.
func spoken(n string) string {
	return strings.Join(strings.Split(n, ""), " ")
}

// say plays a prompt to the waiting caller (the music pauses meanwhile).
func (cv *conversation) say(ctx context.Context, text string) error {
	lang, _ := cbText(cv.lang)
	cv.stopPrompt()
	id, err := cv.c.playOverMusic(ctx, cv.call, lang, text)
	if err != nil {
		return err
	}
	cv.playing, cv.cb.until = id, time.Time{}
	return nil
}

// offerCallback makes the callback offer to a caller who has waited OfferAfter.
func (cv *conversation) offerCallback(ctx context.Context) error {
	_, t := cbText(cv.lang)
	cv.cb = cbDialog{stage: cbOffered}
	cv.call.Record(switchboard.EvCallbackOffered, map[string]any{"after_s": int(time.Since(cv.e.arrived).Seconds())})
	return cv.say(ctx, t.offer)
}

// callbackKey takes a key of the callback dialogue; booked says the callback is booked (the
// caller has heard the goodbye; the leg is over).
func (cv *conversation) callbackKey(ctx context.Context, digit string) (booked bool, err error) {
	_, t := cbText(cv.lang)
	switch cv.cb.stage {
	case cbOffered:
		if digit != "1" {
			return false, nil
		}
		cv.cb.tries = 0
		if callbackNumber(cv.call.Caller) {
			cv.cb.stage, cv.cb.number = cbConfirm, cv.call.Caller
			return false, cv.say(ctx, fmt.Sprintf(t.confirm, spoken(cv.cb.number)))
		}
		cv.cb.stage, cv.cb.digits = cbEnter, ""
		return false, cv.say(ctx, t.enter)
	case cbConfirm:
		switch digit {
		case "1":
			return cv.book(ctx)
		case "2":
			cv.cb.stage, cv.cb.digits, cv.cb.tries = cbEnter, "", 0
			return false, cv.say(ctx, t.enter)
		}
	case cbEnter:
		switch {
		case digit == "#":
			if !callbackNumber(cv.cb.digits) {
				cv.call.Record(switchboard.EvCallbackRefused, map[string]any{"length": len(cv.cb.digits), "reason": "9 to 15 digits"})
				cv.cb.tries++
				cv.cb.digits = ""
				if cv.cb.tries >= 3 {
					return false, cv.backToWaiting()
				}
				return false, cv.say(ctx, t.invalid+" "+t.enter)
			}
			cv.cb.stage, cv.cb.number, cv.cb.tries = cbConfirm, cv.cb.digits, 0
			return false, cv.say(ctx, fmt.Sprintf(t.confirm, spoken(cv.cb.number)))
		case digit == "*":
			cv.cb.digits = ""
		case len(digit) == 1 && digit[0] >= '0' && digit[0] <= '9':
			cv.stopPrompt() // the first key cuts the prompt short
			if len(cv.cb.digits) < 15 {
				cv.cb.digits += digit
			}
			cv.cb.until = time.Now().Add(cbKeyTimeout)
		}
	}
	return false, nil
}

// callbackTimeout: no key after a dialogue prompt. The prompt is said once more, then the caller
// goes back to waiting with music (the offer stands: 1 still books).
func (cv *conversation) callbackTimeout(ctx context.Context) error {
	_, t := cbText(cv.lang)
	cv.cb.until = time.Time{}
	cv.cb.tries++
	if cv.cb.tries >= 2 {
		return cv.backToWaiting()
	}
	switch cv.cb.stage {
	case cbConfirm:
		return cv.say(ctx, fmt.Sprintf(t.confirm, spoken(cv.cb.number)))
	case cbEnter:
		if cv.cb.digits != "" { // keyed without the # at the end: take it as ended
			return func() error { _, err := cv.callbackKey(ctx, "#"); return err }()
		}
		return cv.say(ctx, t.enter)
	}
	return nil
}

func (cv *conversation) backToWaiting() error {
	cv.stopPrompt()
	cv.cb = cbDialog{stage: cbOffered}
	return cv.call.StartMOH("")
}

// book turns the waiting caller into a callback holding the same place. When the ACD refuses
// (an agent is being offered the call right now) the caller simply goes on waiting.
func (cv *conversation) book(ctx context.Context) (bool, error) {
	c, call, id, e := cv.c, cv.call, cv.id, cv.e
	number := cv.cb.number
	done := make(chan int, 1)
	c.post(func() {
		for _, a := range c.step(acd.RequestCallback{Call: id, Number: number}) {
			if a.Kind == acd.ActInvalid && a.Call == id {
				done <- 0
				return
			}
		}
		e.cb = &pendingCallback{number: number, line: call}
		e.call = nil
		pos := 0
		if est, ok := c.eng.EstimateWait(id); ok {
			pos = est.Position
		}
		done <- max(pos, 1)
	})
	pos := <-done
	if pos == 0 {
		cv.cb = cbDialog{}
		cv.stopPrompt()
		return false, call.StartMOH("")
	}
	c.saveCallback(ctx, id, e, number)
	call.Record(switchboard.EvCallbackRequested, map[string]any{"number": number, "queue": e.route.Queue,
		"language": string(cv.lang), "booked": true, "position": pos, "waited_s": int(time.Since(e.arrived).Seconds())})
	note := fmt.Sprintf("Mieszkaniec czekał w kolejce %s i zamówił oddzwonienie na numer %s; zachowuje miejsce w kolejce (pozycja %d).",
		e.route.Queue, number, pos)
	c.background(func() { c.ticketNote(e.ticket, note) })
	lang, t := cbText(cv.lang)
	cv.stopPrompt()
	call.StopMOH()
	c.sayAndWait(ctx, call, lang, t.booked) // a hang-up now loses nothing: the callback is booked
	return true, nil
}

// BookCallback implements switchboard.CallbackBooker: the menu's callback node. The callback
// joins the queue now as a virtual caller; the resident is called when its place comes up.
func (c *Center) BookCallback(ctx context.Context, call *switchboard.Call, number, queue string, lang ivr.Lang) error {
	if !c.knownQueue(queue) {
		return fmt.Errorf("no queue %q", queue)
	}
	if !callbackNumber(number) {
		return fmt.Errorf("%q cannot be called back", number)
	}
	id := acd.CallID(call.ID)
	r := ivr.Route{Queue: queue, Language: lang}
	e := &entry{route: r, arrived: time.Now(), cb: &pendingCallback{number: number, line: call}}
	if e.pop, e.ticket = c.screenPop(ctx, call, r); e.ticket == 0 {
		return fmt.Errorf("the call's ticket is not written yet (is the database away?)")
	}
	e.pop.Caller = protocol.Caller{Number: number}
	done := make(chan error, 1)
	c.post(func() {
		c.calls[id] = e
		for _, a := range c.step(acd.CallArrived{Call: id, Queue: acd.QueueID(queue), Language: string(lang), Callback: number}) {
			if a.Kind == acd.ActReject && a.Call == id {
				done <- fmt.Errorf("the queue refused the callback: %s", a.Reason)
				return
			}
		}
		done <- nil
	})
	if err := <-done; err != nil {
		return err
	}
	c.saveCallback(ctx, id, e, number)
	c.background(func() {
		c.ticketNote(e.ticket, fmt.Sprintf("Mieszkaniec zamówił w menu oddzwonienie na numer %s (kolejka %s).", number, queue))
	})
	return nil
}

func (c *Center) knownQueue(q string) bool {
	return slices.Contains(c.o.Queues, q) || q == "broker" || q == "supervisor"
}

// callbackDue: the callback's place has come up and the ACD has reserved the agent. The agent
// sees the callback (a preview offer) while Kontakt dials the resident (loop goroutine).
func (c *Center) callbackDue(a acd.Action) {
	e := c.calls[a.Call]
	if e == nil || e.cb == nil || c.o.Dialer == nil {
		c.log.Warn("a callback is due that cannot be dialled; withdrawn", "call", a.Call)
		c.post(func() { c.step(acd.CancelCallback{Call: a.Call}) })
		c.callbackState(a.Call, func(ctx context.Context, st *store.Store) error {
			return st.EndCallback(ctx, store.CallID(a.Call), "cancelled")
		})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.agent = a.Agent
	e.cb.attempt, e.cb.dialing, e.cb.cancel = a.Attempt, true, cancel
	o := e.pop
	o.OfferID = newOfferID()
	o.ExpiresAt = a.At.Add(c.o.Callback.Ring)
	o.WaitedMS = a.At.Sub(e.arrived).Milliseconds()
	o.Queue = string(a.Queue)
	o.Caller = protocol.Caller{Number: e.cb.number}
	o.Callback = &protocol.CallbackInfo{Number: e.cb.number, Attempt: a.Attempt}
	if err := c.agents.Offer(agentd.AgentID(a.Agent), o); err != nil {
		c.log.Warn("the agent did not get the callback's preview", "agent", a.Agent, "call", a.Call, "err", err)
	}
	c.callbackState(a.Call, func(ctx context.Context, st *store.Store) error {
		return st.CallbackAttempted(ctx, store.CallID(a.Call), a.Attempt)
	})
	go c.dialCallback(ctx, e.cb.line, a.Call, a.Agent, e.ticket, e.cb.number, a.Attempt, e.route.Language, string(a.Queue))
}

// dialCallback rings the resident for one attempt (its own goroutine).
func (c *Center) dialCallback(ctx context.Context, line *switchboard.Call, id acd.CallID, agent acd.AgentID,
	tid store.TicketID, number string, attempt int, lang ivr.Lang, queue string) {
	if line != nil {
		// The resident booked the callback on this call and may still be on it (hearing the
		// goodbye): their phone would be busy.
		select {
		case <-line.Done():
		case <-ctx.Done():
		}
	}
	var err error
	if ctx.Err() == nil {
		_, err = c.o.Dialer.Dial(ctx, switchboard.DialRequest{
			Endpoint: strings.ReplaceAll(c.o.Callback.Endpoint, "{number}", number),
			Number:   number, CallerID: c.o.Callback.CallerID, Ticket: tid, Ring: c.o.Callback.Ring,
			Flow:   &callbackFlow{c: c, id: id, agent: agent, attempt: attempt, lang: lang, number: number, ticket: tid},
			Record: map[string]any{"callback_for": string(id), "attempt": attempt, "queue": queue, "agent": string(agent)},
		})
	} else {
		err = ctx.Err()
	}
	if err == nil {
		return // answered: the flow goes on
	}
	reason := "połączenie nie doszło do skutku"
	var de *switchboard.DialError
	switch {
	case errors.As(err, &de):
		reason = map[string]string{"busy": "numer zajęty", "no answer": "brak odpowiedzi", "rejected": "połączenie odrzucone",
			"invalid number": "nieprawidłowy numer", "hung up before answering": "rozłączono przed odebraniem"}[de.Reason]
		if reason == "" {
			reason = fmt.Sprintf("nieudane (przyczyna %d)", de.Cause)
		}
	case errors.Is(err, context.Canceled):
		reason = "brak odpowiedzi w wyznaczonym czasie"
	}
	c.log.Info("callback not answered", "call", id, "attempt", attempt, "number", number, "err", err)
	c.ticketNote(tid, fmt.Sprintf("Oddzwonienie, próba %d, na numer %s: %s.", attempt, number, reason))
	c.post(func() {
		e := c.calls[id]
		if e == nil || e.cb == nil || e.cb.attempt != attempt || !e.cb.dialing {
			return // the ACD gave the attempt up already
		}
		e.cb.dialing, e.agent = false, ""
		c.agents.CancelOffer(agentd.AgentID(agent), agentd.CallID(id), "no_answer")
		c.step(acd.CallbackNoAnswer{Call: id})
	})
}

// callbackFlow runs a callback the resident answered: a greeting, then the reserved agent.
type callbackFlow struct {
	c       *Center
	id      acd.CallID
	agent   acd.AgentID
	attempt int
	lang    ivr.Lang
	number  string
	ticket  store.TicketID
}

// Handle implements switchboard.Flow.
func (f *callbackFlow) Handle(ctx context.Context, call *switchboard.Call) (switchboard.Outcome, error) {
	c := f.c
	got := make(chan *entry, 1)
	c.post(func() {
		e := c.calls[f.id]
		if e == nil || e.cb == nil || e.cb.attempt != f.attempt || !e.cb.dialing {
			got <- nil
			return
		}
		for _, a := range c.step(acd.CallbackAnswered{Call: f.id}) {
			if a.Kind == acd.ActInvalid && a.Call == f.id {
				got <- nil
				return
			}
		}
		e.cb.dialing = false
		e.call = call
		c.onCall[f.agent] = f.id
		got <- e
	})
	e := <-got
	lang, t := cbText(f.lang)
	if e == nil {
		// Answered after Kontakt gave the attempt up: the agent is no longer reserved.
		call.Record(switchboard.EvCallbackLate, nil)
		c.sayAndWait(ctx, call, lang, t.late)
		return switchboard.OutcomeFailed, nil
	}
	c.background(func() {
		c.ticketNote(f.ticket, fmt.Sprintf("Oddzwonienie, próba %d, na numer %s: mieszkaniec odebrał; połączono z konsultantem.", f.attempt, f.number))
	})
	c.callbackState(f.id, func(ctx context.Context, st *store.Store) error {
		return st.EndCallback(ctx, store.CallID(f.id), "answered")
	})
	cv := &conversation{c: c, call: call, id: f.id, e: e, lang: f.lang}
	if err := c.sayAndWait(ctx, call, lang, t.greeting); errors.Is(err, switchboard.ErrHangup) {
		c.agents.CancelOffer(agentd.AgentID(f.agent), agentd.CallID(f.id), "caller_hangup")
		cv.finish("caller_hangup")
		return switchboard.OutcomeUnknown, err
	}
	c.connect(call, agentd.AgentID(f.agent), agentd.CallID(f.id))
	return cv.serve(ctx)
}

// ticketNote adds the system's note to a ticket (a callback's booking and attempts).
func (c *Center) ticketNote(tid store.TicketID, text string) {
	if c.o.CRM == nil || tid == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.o.CRM.Act(ctx, ticket.Actor{Role: ticket.RoleSystem}, ticket.ID(tid),
		crm.ActionRequest{Action: ticket.ActionAddNote, Note: text, Text: text}); err != nil {
		c.log.Warn("callback note not added to the ticket", "ticket", tid, "err", err)
	}
}

// saveCallback keeps a booked callback in Postgres, so that a restart does not lose it.
func (c *Center) saveCallback(ctx context.Context, id acd.CallID, e *entry, number string) {
	if c.o.Store == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.o.Store.SaveCallback(sctx, store.Callback{CallID: store.CallID(id), TicketID: e.ticket, Number: number,
		Queue: e.route.Queue, Language: string(e.route.Language), Priority: e.route.Priority, ArrivedAt: e.arrived}); err != nil {
		c.log.Error("callback not saved; a restart now would lose it", "call", id, "err", err)
	}
}

// callbackState updates a kept callback in the background.
func (c *Center) callbackState(id acd.CallID, f func(ctx context.Context, st *store.Store) error) {
	if c.o.Store == nil {
		return
	}
	c.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f(ctx, c.o.Store); err != nil {
			c.log.Warn("callback state not saved", "call", id, "err", err)
		}
	})
}

// RestoreCallbacks puts the callbacks kept in Postgres back in their queues, each in the place
// its caller had (after a restart: the ACD's state lives in memory). It returns how many.
func (c *Center) RestoreCallbacks(ctx context.Context) (int, error) {
	if c.o.Store == nil {
		return 0, nil
	}
	cbs, err := c.o.Store.PendingCallbacks(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, cb := range cbs {
		id := acd.CallID(cb.CallID)
		if !c.knownQueue(cb.Queue) {
			c.log.Warn("a kept callback's queue no longer exists; withdrawn", "call", cb.CallID, "queue", cb.Queue)
			c.callbackState(id, func(ctx context.Context, st *store.Store) error { return st.EndCallback(ctx, cb.CallID, "cancelled") })
			continue
		}
		t, err := c.o.Store.Ticket(ctx, cb.TicketID)
		if err != nil {
			return n, fmt.Errorf("callback %s: its ticket: %w", cb.CallID, err)
		}
		lang := ivr.Lang(cb.Language)
		if lang == "" {
			lang = ivr.LangPL
		}
		e := &entry{route: ivr.Route{Queue: cb.Queue, Language: lang, Priority: cb.Priority}, arrived: cb.ArrivedAt,
			ticket: cb.TicketID, cb: &pendingCallback{number: cb.Number}}
		e.pop = protocol.Offer{CallID: string(id), Queue: cb.Queue, Language: string(lang),
			Caller: protocol.Caller{Number: cb.Number}, RecentTickets: []protocol.TicketSummary{}, Articles: []protocol.Article{},
			IVRPath: []protocol.IVRStep{}, Ticket: protocol.Ticket{Number: t.Number, Kind: protocol.TicketKind(t.Kind),
				Status: t.Status, Channel: t.Channel, Category: t.Category, Unit: t.Unit, Summary: t.Description, CreatedAt: t.CreatedAt}}
		c.post(func() {
			c.calls[id] = e
			c.step(acd.CallArrived{Call: id, Queue: acd.QueueID(cb.Queue), Language: cb.Language, Priority: cb.Priority,
				Arrived: cb.ArrivedAt, Callback: cb.Number})
		})
		n++
	}
	return n, nil
}
