package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// ErrNoFlow is an event naming a flow the engine does not run.
var ErrNoFlow = errors.New("no such flow")

// event does what ev says to the turn's contact; the runs it resumes and
// starts go on in run.
func (t *turn) event(ev Event) error {
	switch ev := ev.(type) {
	case Message:
		t.message(ev)
	case AgentMessage:
		ev.Text = interpreter.CleanText(ev.Text)
		var data []byte
		if !ev.Sent {
			data = t.deliverAgentMessage(ev)
		}
		t.note(nil, KindAgentMessage, ev.Text, data)
		if t.open("user") {
			t.fireOpened("user", false)
		}
		c := t.conv
		c.LastOutgoing, c.LastOutgoingAt, c.LastOutgoingSource = ev.Text, t.now, "user"
		t.convTouched = true
		t.exit(interpreter.ExitAgentMessage, nil)
		// respond.io's auto-close counts from an agent's last message
		t.fail(t.tx.DeleteContactTimers(t.c.ID, store.TimerAutoClose))
		if t.e.cfg.AutoClose > 0 {
			t.fail(t.tx.AddTimer(&store.Timer{ContactID: t.c.ID, Kind: store.TimerAutoClose, At: t.now.Add(t.e.cfg.AutoClose)}))
		}
	case OpenConversation:
		if t.open(ev.By) {
			t.note(nil, KindEvent, "conversation opened by "+ev.By, nil)
			t.fireOpened(ev.By, false)
		}
	case CloseConversation:
		if t.conv != nil && t.conv.Open {
			t.note(nil, KindEvent, "conversation closed by "+ev.By, nil)
			t.close(ev.By, interpreter.CleanText(ev.Category), interpreter.CleanText(ev.Summary), false)
		}
	case TagChange:
		add := cleanAll(ev.Add)
		if err := t.roomForTags(add); err != nil {
			return err
		}
		t.addTags(add, false)
		t.removeTags(cleanAll(ev.Remove), false)
	case FieldChange:
		if ev.Clear {
			t.clearField(ev.Field, false)
		} else {
			if err := t.roomForField(ev.Field); err != nil {
				return err
			}
			t.setField(ev.Field, interpreter.CleanText(ev.Value), false)
		}
	case ManualAssign:
		u := t.user(ev.User)
		if u == nil {
			return fmt.Errorf("manual assignment: user %q: %w", ev.User, store.ErrNotFound)
		}
		if t.open("user") {
			t.fireOpened("user", false)
		}
		t.freed = t.freed || t.conv.Assignee != ""
		t.conv.Assignee, t.conv.Team, t.convDirty = u.ID, "", true
		t.note(nil, KindEvent, fmt.Sprintf("assigned %q by hand", u.Email), nil)
		t.exit(interpreter.ExitManualAssignment, nil)
	case Webhook:
		p := t.e.byName[ev.Flow]
		if p == nil || p.Trigger == nil || p.Trigger.Event != interpreter.EventWebhook {
			return fmt.Errorf("webhook of %q: %w with a webhook trigger", ev.Flow, ErrNoFlow)
		}
		fr := firing{f: Firing{Event: interpreter.EventWebhook}, data: map[string]any{"body": ev.Body}}
		t.enrolOne(p, fr)
	case Shortcut:
		t.shortcut(ev)
	case AdClick:
		if ev.Channel != "" {
			t.channel(ev.Channel)
		}
		data := map[string]any{"platform": ev.Platform, "ad_id": ev.AdID}
		if ev.Referral != nil {
			data["referral"] = ev.Referral
		}
		if t.open("contact") {
			t.fireOpened("contact", false)
		}
		t.fire(Firing{Event: interpreter.EventAdClick, Platform: ev.Platform}, data, false)
	case ManualStart:
		return t.manualStart(ev)
	case StopBot:
		t.stopBot(ev.Flow)
	case Comment:
		t.note(nil, KindComment, interpreter.CleanText(ev.Text), nil)
	case ResumeBot:
		t.resumeBot(ev.Flow)
	case Unassign:
		if c := t.conv; c != nil && c.Open && c.Assignee != "" {
			c.Assignee, c.Team, t.convDirty, t.freed = "", "", true, true
			t.note(nil, KindEvent, "unassigned by hand", nil)
		}
	case Seed:
		return t.seed(ev)
	case AIAnswer:
		return t.aiAnswer(ev)
	case StopRun:
		if r := t.runByID(ev.Run); r != nil && !r.busy {
			t.end(r, store.RunStopped, "stopped by hand")
			t.note(r, KindFlow, fmt.Sprintf("stopped %q", r.rec.Flow), nil)
		}
	case Result:
		if ev.Note != "" {
			t.note(t.runByID(ev.Run), KindStep, ev.Note, nil)
		}
		if r := t.runByID(ev.Run); r != nil {
			t.queue = append(t.queue, pending{r, ev.Input})
		}
	case timerDue:
		t.timerDue(ev.timer)
	case assignDue:
		t.retryAssign(ev.out)
	default:
		return fmt.Errorf("event %T: not handled by this engine", ev)
	}
	return t.err
}

// message takes in a message from the contact. It opens a conversation
// when none is open; it answers the run that most recently asked a question,
// and stops the runs that exit on a contact message. A message that answers
// a question fires no conversation opened flows, even when it opened the
// conversation (a CSAT answered after the close): the contact is talking to
// the flow that asked.
func (t *turn) message(m Message) {
	if m.Key != "" {
		seen, err := t.tx.Seen(m.Key, t.now)
		if t.fail(err); err != nil || seen {
			return
		}
	}
	if m.Channel != "" {
		t.channel(m.Channel)
	}
	m.Text = interpreter.CleanText(m.Text) // whoever sent it: the log, the runs and the fields get clean text
	text := m.Text
	if m.Location != nil {
		text = "location " + strconv.FormatFloat(m.Location.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(m.Location.Long, 'f', -1, 64)
	}
	var data []byte
	if m.Attachment != nil {
		var err error
		data, err = json.Marshal(map[string]any{"attachment": m.Attachment})
		t.fail(err)
	}
	t.note(nil, KindMessageIn, text, data)
	opened := t.open("contact")
	c := t.conv
	if c.LastOutgoingSource == "user" && !c.LastOutgoingAt.Before(c.LastIncomingAt) {
		// the contact answered an agent: auto-close waits for the next agent message
		t.fail(t.tx.DeleteContactTimers(t.c.ID, store.TimerAutoClose))
	}
	c.LastIncoming, c.LastIncomingAt = m.Text, t.now
	t.convTouched = true
	target := t.latestWaiting(interpreter.WaitReply)
	t.exit(interpreter.ExitContactMessage, target)
	t.restartAIIdle()
	if opened && target == nil {
		t.fireOpened("contact", false)
	}
	if target != nil {
		t.queue = append(t.queue, pending{target, interpreter.Message{Text: m.Text, Location: m.Location}})
	} else if r := t.latestWaiting(interpreter.WaitAI); r != nil {
		t.aiMessage(r) // the contact talks to the AI agent
	}
}

// channel records the channel the contact wrote on.
func (t *turn) channel(ch string) {
	if t.c.Channel != ch {
		t.c.Channel, t.contactDirty = ch, true
	}
	if !slices.Contains(t.c.Channels, ch) {
		t.c.Channels, t.contactDirty = append(t.c.Channels, ch), true
	}
}

// restartAIIdle moves the idle timer of each AI reply on: the contact wrote.
func (t *turn) restartAIIdle() {
	for _, r := range t.runs {
		if r.ended || r.busy || r.cont == nil || r.cont.Wait != interpreter.WaitAI {
			continue
		}
		in := r.prog.Code[r.cont.PC]
		idle := r.prog.AIs[in.A].Idle
		if idle <= 0 {
			continue
		}
		t.fail(t.tx.DeleteRunTimers(r.rec.ID, r.cont.Seq))
		r.deadline = t.now.Add(idle)
		r.rec.Deadline, r.dirty = r.deadline, true
		t.fail(t.tx.AddTimer(&store.Timer{ContactID: t.c.ID, Kind: store.TimerRun, RunID: r.rec.ID, Seq: r.cont.Seq, At: r.deadline}))
	}
}

func (t *turn) shortcut(ev Shortcut) {
	data := map[string]any{"user": ev.User}
	for _, p := range t.e.flows {
		if p.Trigger == nil || p.Trigger.Event != interpreter.EventShortcut || p.Trigger.Shortcut != ev.Name {
			continue
		}
		for _, f := range p.Trigger.Form {
			if v, ok := ev.Form[f.Name]; ok {
				data[f.Name] = interpreter.FieldValue(f.Type, interpreter.CleanText(v))
			}
		}
	}
	t.fire(Firing{Event: interpreter.EventShortcut, Shortcut: ev.Name}, data, false)
}

// enrolOne applies the trigger rules to one flow.
func (t *turn) enrolOne(p *interpreter.Program, fr firing) {
	data := map[string]any{"type": fr.f.Event}
	for k, v := range fr.data {
		data[k] = v
	}
	t.selectAndEnrol([]*interpreter.Program{p}, fr, data)
}

// manualStart starts a flow by hand: not while a run of it is active, and
// only when its trigger condition holds. A draft starts only for a test.
func (t *turn) manualStart(ev ManualStart) error {
	p := t.e.byName[ev.Flow]
	if p == nil {
		return fmt.Errorf("start %q: %w", ev.Flow, ErrNoFlow)
	}
	if p.Draft && !ev.Drafts {
		return fmt.Errorf("start %q: it is a draft", ev.Flow)
	}
	if t.active(p.Flow) {
		t.note(nil, KindFlow, fmt.Sprintf("not started: %q is already running", p.Flow), nil)
		return t.err
	}
	data := map[string]any{"type": interpreter.EventManual}
	if p.Trigger != nil && p.Trigger.Event != "" {
		data["type"] = p.Trigger.Event
	}
	for k, v := range ev.Trigger {
		data[k] = v
	}
	ok, err := candidates{t, data}.Matches(p)
	if err != nil { // the start is refused, with the reason, to whoever asked
		return fmt.Errorf("start %q: %w", p.Flow, err)
	}
	if !ok {
		t.note(nil, KindFlow, fmt.Sprintf("not started: %q: trigger condition is false", p.Flow), nil)
		return t.err
	}
	t.enrol(p, data, false, nil, "")
	return t.err
}

// stopBot ends the contact's waiting runs of the flows that allow it (exit
// on manual stop), of one flow or all, and holds those flows back for the
// rest of the conversation: an agent who takes over gets silence.
func (t *turn) stopBot(flow string) {
	for _, r := range t.runs {
		if !r.ended && !r.busy && r.prog.ExitsOn(interpreter.ExitManualStop) && (flow == "" || r.rec.Flow == flow) {
			t.end(r, store.RunStopped, "stopped by an agent")
			t.note(r, KindFlow, fmt.Sprintf("stopped %q", r.rec.Flow), nil)
		}
	}
	if t.conv == nil || !t.conv.Open {
		return
	}
	for _, p := range t.e.flows {
		if p.ExitsOn(interpreter.ExitManualStop) && (flow == "" || p.Flow == flow) && !slices.Contains(t.conv.Held, p.Flow) {
			t.conv.Held = append(t.conv.Held, p.Flow)
			t.convDirty = true
		}
	}
}

// resumeBot lets held flows start again in the conversation.
func (t *turn) resumeBot(flow string) {
	if t.conv == nil || len(t.conv.Held) == 0 {
		return
	}
	kept := t.conv.Held[:0:0]
	for _, f := range t.conv.Held {
		if flow != "" && f != flow {
			kept = append(kept, f)
		}
	}
	if len(kept) != len(t.conv.Held) {
		t.conv.Held, t.convDirty = kept, true
		t.note(nil, KindEvent, "bot resumed", nil)
	}
}

// deliverAgentMessage queues an agent's message for the contact's channel
// and returns it as the outbox keeps it.
func (t *turn) deliverAgentMessage(ev AgentMessage) []byte {
	m := &interpreter.SendMessage{Text: ev.Text}
	b, err := json.Marshal(OutMessage{Channel: t.c.Channel, Message: m, To: t.address(t.c.Channel)})
	if t.fail(err); err != nil {
		return nil
	}
	o := &store.Outbound{ContactID: t.c.ID, Lane: laneMessage, Kind: m.Type(), Payload: b,
		Status: store.OutPending, NextAt: t.now, Created: t.now}
	t.fail(t.tx.Enqueue(o))
	if ev.Out != nil {
		*ev.Out = o.ID
	}
	return b
}

// seed sets the contact up without firing anything: see Seed.
func (t *turn) seed(s Seed) error {
	for k, v := range s.Fields {
		if v == nil {
			delete(t.c.Fields, k)
		} else {
			t.c.Fields[k] = v
		}
		t.contactDirty = true
	}
	if s.Tags != nil {
		t.c.Tags = interpreter.WithTags(nil, s.Tags)
		t.contactDirty = true
	}
	if s.Channel != "" {
		t.channel(s.Channel)
	}
	for _, flow := range s.Enrolled {
		t.fail(t.tx.AddEnrolment(t.c.ID, flow, t.now))
	}
	if s.Close && t.conv != nil && t.conv.Open {
		t.conv.Open, t.conv.ClosedBy, t.conv.ClosedAt, t.convDirty = false, "user", t.now, true
		t.freed = t.freed || t.conv.Assignee != ""
		t.fail(t.tx.DeleteContactTimers(t.c.ID, store.TimerAutoClose))
	}
	if s.Past > 0 && t.conv != nil && t.conv.Open {
		return errors.New("seed: earlier conversations while one is open")
	}
	if s.Past > MaxSeedPast {
		return fmt.Errorf("seed: %d earlier conversations; at most %d", s.Past, MaxSeedPast)
	}
	for i := 0; i < s.Past && t.err == nil; i++ {
		t.open("contact")
		t.conv.Open, t.conv.ClosedBy, t.conv.ClosedAt = false, "user", t.now
	}
	if s.Open {
		by := s.OpenedBy
		if by == "" {
			by = "contact"
		}
		t.open(by)
	}
	if s.Assignee != "" {
		if t.conv == nil {
			return errors.New("seed: an assignee with no conversation")
		}
		if t.user(s.Assignee) == nil {
			return fmt.Errorf("seed: assignee %q: %w", s.Assignee, store.ErrNotFound)
		}
		t.conv.Assignee, t.convDirty = s.Assignee, true
	}
	return t.err
}

// timerDue fires a stored timer: a run's, a watchdog's, or auto-close.
func (t *turn) timerDue(tm store.Timer) {
	if err := deleteTimer(t.tx, tm.ID); err != nil {
		t.fail(ignoreNotFound(err)) // gone: it fired already
		return
	}
	if tm.Kind == store.TimerAutoClose {
		if t.conv != nil && t.conv.Open {
			t.note(nil, KindConversation, "conversation closed: idle", nil)
			t.close("user", "", "", false)
		}
		return
	}
	r := t.runByID(tm.RunID)
	if r == nil || r.cont == nil || r.cont.Seq != tm.Seq {
		return // stale: the run moved on
	}
	var in interpreter.Input = interpreter.Timeout{Seq: tm.Seq}
	if tm.Kind == timerWatchdog {
		switch r.cont.Wait {
		case interpreter.WaitHTTP:
			t.fail(t.tx.WithdrawOutbound(r.rec.ID, laneHTTP))
			in = interpreter.HTTPResponse{Seq: tm.Seq, Err: "no response in time"}
		case interpreter.WaitDelivery:
			in = interpreter.Delivery{Seq: tm.Seq, Err: "no delivery report in time"}
		default:
			return
		}
	}
	t.queue = append(t.queue, pending{r, in})
}

// cleanAll is texts from outside, each cleaned (interpreter.CleanText).
func cleanAll(texts []string) []string {
	out := make([]string, len(texts))
	for i, s := range texts {
		out[i] = interpreter.CleanText(s)
	}
	return out
}

// ErrLimit is an outside change that would take a contact past one of
// its bounds (interpreter.MaxContactTags, MaxContactFields).
var ErrLimit = errors.New("over a limit")

// roomForTags refuses tags that would give the contact more than
// interpreter.MaxContactTags; a flow's tag step is bounded by the machine.
func (t *turn) roomForTags(tags []string) error {
	n := len(t.c.Tags)
	for _, tag := range tags {
		if !containsTag(t.c.Tags, tag) {
			n++
		}
	}
	if n > interpreter.MaxContactTags {
		return fmt.Errorf("a contact may have at most %d tags: %w", interpreter.MaxContactTags, ErrLimit)
	}
	return nil
}

// roomForField refuses a new field past interpreter.MaxContactFields.
func (t *turn) roomForField(field string) error {
	if _, has := t.c.Fields[field]; !has && len(t.c.Fields) >= interpreter.MaxContactFields {
		return fmt.Errorf("a contact may have at most %d fields: %w", interpreter.MaxContactFields, ErrLimit)
	}
	return nil
}
