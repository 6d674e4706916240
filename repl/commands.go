package repl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/flowtest"
	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// A command is one :command of the REPL.
type command struct {
	name string // without the colon
	args string // the arguments, for :help and the usage line
	help string
	run  func(s *session, arg string) error
}

// errUsage makes the REPL print the command's usage line.
var errUsage = errors.New("usage")

var commands []command

func init() {
	commands = []command{
		{"help", "", "list the commands", cmdHelp},
		{"wait", "DURATION", "advance the clock (5m, 1h30m, 7d), firing due timers", cmdWait},
		{"now", "[YYYY-MM-DD HH:MM]", "print the clock and the next timer, or set the clock (in the workspace timezone)", cmdNow},
		{"timezone", "[TZ]", "print or set the workspace timezone (Asia/Kuala_Lumpur); the clock keeps its reading", cmdTimezone},
		{"set", "contact|conversation|assignee.NAME VALUE", "set a field; contact fields are text unless the flow declares them number or checkbox (as contact lines of a .flowtest)", cmdSet},
		{"unset", "contact|conversation|assignee.NAME", "remove a field", cmdUnset},
		{"tag", "NAME", "an agent adds a tag to the contact (tag triggers fire)", cmdTag},
		{"untag", "NAME", "an agent removes a tag from the contact", cmdUntag},
		{"close", "[user|contact|flow]", "the conversation closes (by an agent unless said): exits and close triggers", cmdConversation("closed")},
		{"open", "[contact|user|flow]", "the conversation opens (by the contact unless said): open triggers", cmdConversation("opened")},
		{"contact", "", "print the contact's fields and tags", cmdContact},
		{"vars", "", "print each run's flow variables", cmdVars},
		{"state", "", "print each run's status, wait, position and continuation", cmdState},
		{"disasm", "", "print the bytecode of the flow", cmdDisasm},
		{"http", "STATUS [BODY] | error TEXT | stub METHOD URL -> STATUS [BODY] | live | hold", "answer the waiting http step, add a stub, or say how unmatched requests are answered", cmdHTTP},
		{"agent", "TEXT", "an agent writes to the contact (exit on agent message)", cmdAgent},
		{"assign", "USER", "an agent assigns the conversation by hand (exit on manual assignment)", cmdAssign},
		{"agents", "online|offline|none", "the simulated agents' status; none: no agent, so assign steps wait", cmdAgents},
		{"ai", "success|human|unable|failure [Name=Value ...]", "answer the waiting ai reply step", cmdAI},
		{"location", "LAT, LONG", "the contact sends a location", cmdLocation},
		{"start", "[NAME]", "stop the waiting runs and start the flow (or the flow NAME) again", cmdStart},
		{"reload", "", "re-read the files; waiting runs keep the version they paused in", cmdReload},
		{"dump", "[FILE]", "write the session since the last start as a .flowtest case", cmdDump},
		{"quit", "", "end the session", cmdQuit},
	}
}

func (c *command) usage() string { return strings.TrimSpace(":" + c.name + " " + c.args) }

// command runs a :command line.
func (s *session) command(line string) {
	name, arg, _ := strings.Cut(strings.TrimPrefix(line, ":"), " ")
	arg = strings.TrimSpace(arg)
	var names []string
	for i := range commands {
		c := &commands[i]
		if c.name != name {
			names = append(names, c.name)
			continue
		}
		err := c.run(s, arg)
		switch {
		case errors.Is(err, errUsage):
			s.printf("usage: %s", c.usage())
		case err != nil:
			s.printf("error: %v", err)
		}
		return
	}
	hint := ""
	if best := nearest(name, names); best != "" {
		hint = fmt.Sprintf(" (did you mean :%s?)", best)
	}
	s.printf("unknown command %q%s; :help lists the commands", ":"+name, hint)
}

func cmdHelp(s *session, _ string) error {
	const width = 24
	for i := range commands {
		c := &commands[i]
		if len(c.usage()) > width {
			s.printf("  %s\n  %-*s %s", c.usage(), width, "", c.help)
		} else {
			s.printf("  %-*s %s", width, c.usage(), c.help)
		}
	}
	s.printf("Any other line is a message from the contact.")
	return nil
}

func cmdQuit(s *session, _ string) error {
	s.quit = true
	return nil
}

func cmdWait(s *session, arg string) error {
	d, err := dsl.ParseDuration(arg)
	if arg == "" || err != nil {
		return errUsage
	}
	s.do("wait "+d.String(), func() { s.report(s.world.Advance(time.Duration(d))) })
	return nil
}

func cmdNow(s *session, arg string) error {
	w := s.world
	if arg == "" {
		s.printf("%s", w.Now().In(w.Timezone()).Format("2006-01-02 15:04:05 MST (Monday)"))
		s.nextTimer()
		return nil
	}
	t, err := flowtest.ParseNow(arg, w.Timezone())
	if err != nil {
		return errUsage
	}
	s.do("now "+t.Format("2006-01-02 15:04:05"), func() { s.report(w.SetNow(t)) })
	s.nextTimer()
	return nil
}

// nextTimer says when the next timer fires, or that one is due.
func (s *session) nextTimer() {
	w := s.world
	next, ok, err := w.NextTimer()
	now, loc := w.Now(), w.Timezone()
	switch {
	case err != nil:
		s.report(err)
	case !ok:
	case next.After(now):
		s.printf("# next timer: %s (in %s)", next.In(loc).Format("2006-01-02 15:04:05"), dsl.Duration(next.Sub(now)))
	default:
		s.printf("# a timer was due at %s: it fires at the next :wait", next.In(loc).Format("2006-01-02 15:04:05"))
	}
}

func cmdTimezone(s *session, arg string) error {
	w := s.world
	if arg == "" {
		s.printf("%s", w.Timezone())
		return nil
	}
	loc, err := time.LoadLocation(arg)
	if err != nil {
		return err
	}
	s.do("timezone "+arg, func() { s.report(w.SetTimezone(loc)) })
	return nil
}

// field splits `contact.NAME` into the namespace it names and the field
// name.
func (s *session) field(ref string) (verb string, name string, err error) {
	verb, name, ok := strings.Cut(ref, ".")
	if !ok || name == "" || strings.ContainsAny(name, " =") {
		return "", "", errUsage
	}
	switch verb {
	case "contact", "conversation", "assignee":
	default:
		return "", "", errUsage
	}
	if verb == "contact" && name == "tags" {
		return "", "", errors.New("tags are not a field: use :tag and :untag")
	}
	return verb, name, nil
}

func cmdSet(s *session, arg string) error {
	ref, value, ok := strings.Cut(arg, " ")
	value = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(value), "="))
	if !ok || value == "" {
		return errUsage
	}
	verb, name, err := s.field(ref)
	if err != nil {
		return err
	}
	if err := flowtest.CheckField(s.mainFile().prog, verb, name); err != nil {
		return err
	}
	v := flowtest.ParseValue(value)
	set := s.world.SetConversation
	switch verb {
	case "contact":
		v = flowtest.ContactValue(s.mainFile().prog, name, value)
		set = s.world.SetField
	case "assignee":
		set = s.world.SetAssignee
	}
	text, _ := formatValue(v)
	s.do(fmt.Sprintf("%s %s = %s", verb, name, text), func() { s.report(set(name, v)) })
	return nil
}

func cmdUnset(s *session, arg string) error {
	verb, name, err := s.field(arg)
	if err != nil {
		return err
	}
	s.do("# :unset "+arg+" (a .flowtest cannot unset a field)", func() { s.report(s.world.Unset(verb, name)) })
	return nil
}

func cmdTag(s *session, arg string) error   { return s.tag(arg, true) }
func cmdUntag(s *session, arg string) error { return s.tag(arg, false) }

func (s *session) tag(arg string, add bool) error {
	if arg == "" {
		return errUsage
	}
	name := flowtest.Unquote(arg)
	if utf8.RuneCountInString(name) > dsl.MaxNameLen {
		return fmt.Errorf("a tag name has at most %d characters", dsl.MaxNameLen)
	}
	if add && len(s.contactTags()) >= interpreter.MaxContactTags {
		return fmt.Errorf("a contact has at most %d tags", interpreter.MaxContactTags)
	}
	// a change from outside, as an agent's: the tag triggers fire
	if add {
		s.do("tag add "+strconv.Quote(name), func() { s.report(s.world.ChangeTags([]string{name}, nil)) })
	} else {
		s.do("tag remove "+strconv.Quote(name), func() { s.report(s.world.ChangeTags(nil, []string{name})) })
	}
	return nil
}

// cmdConversation is :close and :open: the conversation closed or opened
// from outside, as the .flowtest line that records it says.
func cmdConversation(action string) func(*session, string) error {
	return func(s *session, arg string) error {
		line := "conversation " + action
		switch arg {
		case "":
		case "user", "contact", "flow":
			line += " by " + arg
		default:
			return errUsage
		}
		s.do(line, func() { s.report(flowtest.ConversationEvent(s.world, strings.TrimPrefix(line, "conversation "))) })
		return nil
	}
}

func (s *session) contact() map[string]any {
	contact, _, _, err := s.world.Namespaces(s.mainFile().prog)
	s.report(err)
	return contact
}

func (s *session) contactTags() []string {
	tags, _ := s.contact()["tags"].([]string)
	return tags
}

func cmdContact(s *session, _ string) error {
	contact := s.contact()
	for _, k := range sortedKeys(contact) {
		if k != "tags" {
			s.printf("contact.%s = %s", k, show(contact[k]))
		}
	}
	if tags := s.contactTags(); len(tags) > 0 {
		s.printf("tags: %s", strings.TrimPrefix(tagsLine(tags), "tags "))
	} else {
		s.printf("tags: none")
	}
	return nil
}

func cmdVars(s *session, _ string) error {
	runs, err := s.world.Runs()
	if err != nil {
		return err
	}
	for i, r := range runs {
		s.printf("run %d %q (%s):", i+1, r.Flow, r.Status)
		if len(r.Vars) == 0 {
			s.printf("  no variables")
		}
		for _, k := range sortedKeys(r.Vars) {
			s.printf("  %s = %s", k, show(r.Vars[k]))
		}
	}
	return nil
}

func cmdState(s *session, _ string) error {
	runs, err := s.world.Runs()
	if err != nil {
		return err
	}
	for i, r := range runs {
		s.printf("run %d %q program %s: %s", i+1, r.Flow, r.Hash, r.Status)
		if r.Err != "" {
			s.printf("  %s", r.Err)
		}
		if r.Cont == nil {
			continue
		}
		c, err := interpreter.Decode(r.Cont)
		if err != nil {
			return err
		}
		if p := r.Program; p != nil && c.Bind(p) == nil {
			s.printf("  waiting for %s, seq %d, at step %s: pc %d (%s)", r.Wait, r.Seq, c.Step, c.PC, p.Position(c.PC))
		} else {
			s.printf("  waiting for %s, seq %d", r.Wait, r.Seq)
		}
		s.printf("  continuation (%d bytes): %s", len(r.Cont), c)
	}
	return nil
}

func cmdDisasm(s *session, _ string) error {
	s.mainFile().prog.Disassemble(s.out)
	return nil
}

func cmdHTTP(s *session, arg string) error {
	word, rest, _ := strings.Cut(arg, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "live":
		s.world.SetLiveHTTP(&runtime.HTTPClient{})
		s.printf("# http steps that no stub matches now call the real URL")
	case "hold":
		s.world.SetLiveHTTP(nil)
		s.printf("# http steps that no stub matches now wait for :http STATUS [BODY]")
	case "stub":
		st, err := flowtest.ParseStub(rest)
		if err != nil {
			return fmt.Errorf("%v (after :http stub)", err)
		}
		s.world.AddStub(st)
		s.rec.addStub(flowtest.FormatStub(st))
	case "error":
		if rest == "" {
			rest = "error"
		}
		return s.answerHTTP(interpreter.HTTPResponse{Err: rest})
	default:
		status, err := strconv.Atoi(word)
		if err != nil || status < 100 || status > 599 {
			return errUsage
		}
		return s.answerHTTP(interpreter.HTTPResponse{Status: status, Body: []byte(rest)})
	}
	return nil
}

func cmdAgent(s *session, arg string) error {
	if arg == "" {
		return errUsage
	}
	s.do("agent: "+arg, func() { s.report(s.world.AgentSays(arg)) })
	return nil
}

func cmdAssign(s *session, arg string) error {
	if arg == "" {
		return errUsage
	}
	s.do("assign "+arg, func() { s.report(s.world.ManualAssign(flowtest.Unquote(arg))) })
	return nil
}

func cmdAgents(s *session, arg string) error {
	if arg != "online" && arg != "offline" && arg != "none" {
		return errUsage
	}
	s.do("agents "+arg, func() {
		if arg == "none" {
			s.world.SetNoAgents()
			return
		}
		s.report(s.world.SetAgentsOnline(arg == "online"))
	})
	return nil
}

func cmdAI(s *session, arg string) error {
	if arg == "" {
		return errUsage
	}
	outcome, vars, err := flowtest.ParseAI(arg)
	if err != nil {
		return err
	}
	if waiting, err := s.world.WaitingFor(interpreter.WaitAI); err != nil || !waiting {
		return errors.Join(err, errors.New("no run is waiting for an ai reply"))
	}
	s.do("ai "+arg, func() { s.report(s.world.AnswerAI(outcome, vars)) })
	return nil
}

func cmdLocation(s *session, arg string) error {
	lat, long, err := flowtest.ParseLocation(arg)
	if err != nil {
		return errUsage
	}
	line := fmt.Sprintf("location: %s, %s", strconv.FormatFloat(lat, 'f', -1, 64), strconv.FormatFloat(long, 'f', -1, 64))
	s.do(line, func() { s.report(s.world.SendLocation(lat, long)) })
	return nil
}

func cmdStart(s *session, arg string) error {
	ff := s.mainFile()
	if arg != "" {
		var err error
		if ff, err = s.proj.byName(flowtest.Unquote(arg)); err != nil {
			return err
		}
	}
	s.start(ff)
	return nil
}

func cmdReload(s *session, _ string) error {
	changed, failed, err := s.proj.load(s.out)
	if err != nil {
		return err
	}
	if err := s.world.SetFlows(s.proj.runtimeFlows()); err != nil {
		return err
	}
	for _, path := range failed {
		if ff := s.proj.files[path]; ff != nil {
			s.printf("# %s has errors: keeping the version that compiled (program %s)", path, ff.prog.Hash)
		}
	}
	for _, path := range changed {
		s.printf("# reloaded %s: program %s", path, s.proj.files[path].prog.Hash)
	}
	if len(changed) == 0 && len(failed) == 0 {
		s.printf("# no changes")
	}
	runs, err := s.world.Runs()
	if err != nil {
		return err
	}
	for i, r := range runs {
		if r.Program == nil || r.Cont == nil {
			continue
		}
		if ff := s.proj.files[r.Program.File]; ff != nil && ff.prog.Hash != r.Hash {
			s.printf("# run %d keeps program %s until it ends; :start runs the new version", i+1, r.Hash)
		}
	}
	return nil
}

// cmdDump prints the record, or writes it to a new .flowtest file: it never
// overwrites a file, least of all the flow.
func cmdDump(s *session, arg string) error {
	if s.rec.full {
		return fmt.Errorf("the session since the flow started is too long for a .flowtest file (over %s); :start begins a new one", textfile.Size(flowtest.MaxFileSize))
	}
	status := "not started"
	main, started := s.world.MainRun()
	if started {
		status = main.Status
	}
	var notes []string
	if s.proj.stale[s.rec.flow] {
		notes = append(notes, s.rec.flow+" does not compile now: the case fails until it does")
	} else if started && main.Program != s.mainFile().prog.Hash {
		notes = append(notes, "the run began in an older version of the flow; the case runs the file as it is now")
	}
	if arg == "" {
		s.rec.write(s.out, filepath.ToSlash(filepath.Base(s.rec.flow)), status, notes)
		return nil
	}
	if filepath.Ext(arg) != ".flowtest" {
		return fmt.Errorf("%s: :dump writes a .flowtest file; give a name ending in .flowtest", arg)
	}
	ref, err := relPath(filepath.Dir(arg), s.rec.flow)
	if err != nil {
		return err
	}
	var b strings.Builder
	s.rec.write(&b, ref, status, notes)
	f, err := os.OpenFile(arg, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: :dump does not overwrite files; remove it or choose another name", arg)
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	s.printf("# wrote %s; run it with: flowd test %s", arg, arg)
	return nil
}

// relPath is target relative to dir, with forward slashes.
func relPath(dir, target string) (string, error) {
	absDir, err1 := filepath.Abs(dir)
	absTarget, err2 := filepath.Abs(target)
	if err := errors.Join(err1, err2); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absDir, absTarget)
	if err != nil {
		return filepath.ToSlash(absTarget), nil
	}
	return filepath.ToSlash(rel), nil
}

// show prints a value the way a .flowtest writes it, or as JSON.
func show(v any) string {
	if s, ok := formatValue(v); ok {
		return s
	}
	if v == nil {
		return "nil"
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// nearest returns the command name most likely meant: one it begins, or
// the closest misspelling.
func nearest(name string, candidates []string) string {
	if name == "" {
		return ""
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, name) {
			return c
		}
	}
	return dsl.Nearest(name, candidates)
}
