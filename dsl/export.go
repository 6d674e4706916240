package dsl

// Accessors for later stages (the compiler, the graph printer), which see a
// step's options and branches whether they were written on its first line or
// inside its braces.

// Branches returns the named branches (on NAME { }) of a step in source order.
func Branches(s Step) []*On { return branchesOf(s) }

// Branch returns the step's branch called name, or nil.
func Branch(s Step, name string) *On {
	for _, on := range branchesOf(s) {
		if on.Name.Name == name {
			return on
		}
	}
	return nil
}

// Options returns every option and clause of the ask.
func (s *Ask) Options() []*AskOpt { return s.allOpts() }

// Options returns every option and clause of the assign.
func (s *Assign) Options() []*AssignOpt { return s.allOpts() }

// Options returns every option and clause of the http step.
func (s *HTTP) Options() []*HTTPOpt { return s.allOpts() }

// Options returns every option and clause of the ai step.
func (s *AI) Options() []*AIOpt { return s.allOpts() }

// Options returns the options of a send's default message.
func (s *Send) Options() []*SendOpt { return s.sendOpts() }

// Variants returns a send's channel variants.
func (s *Send) Variants() []*Variant { return s.variants() }

// AskType is the question type of an ask: text when none is written.
func (s *Ask) AskType() string { return askType(s) }
