package dsl

// branchesOf returns the named branches (on NAME { }) of a step, in source order.
func branchesOf(s Step) []*On {
	var out []*On
	add := func(on *On) {
		if on != nil {
			out = append(out, on)
		}
	}
	switch s := s.(type) {
	case *Send:
		if s.Body != nil {
			for _, c := range s.Body.Clauses {
				add(c.On)
			}
		}
	case *Ask:
		for _, o := range s.allOpts() {
			add(o.On)
		}
	case *Assign:
		for _, o := range s.allOpts() {
			add(o.On)
		}
	case *During:
		if s.Body != nil {
			out = append(out, s.Body.Clauses...)
		}
	case *HTTP:
		for _, o := range s.allOpts() {
			add(o.On)
		}
	case *Sheet:
		for _, o := range s.Body.Clauses {
			add(o.On)
		}
	case *AI:
		for _, o := range s.allOpts() {
			add(o.On)
		}
	}
	return out
}

// blocksOf returns every block nested directly in a step.
func blocksOf(s Step) []*Block {
	if i, ok := s.(*If); ok {
		out := []*Block{i.Then}
		for _, e := range i.Elses {
			out = append(out, e.Block)
		}
		return out
	}
	var out []*Block
	for _, on := range branchesOf(s) {
		out = append(out, on.Block)
	}
	return out
}

// Walk calls fn for every statement in stmts and, depth first, in the blocks
// nested in them.
func Walk(stmts []*Stmt, fn func(*Stmt)) {
	for _, st := range stmts {
		fn(st)
		for _, b := range blocksOf(st.Step) {
			Walk(b.Stmts, fn)
		}
	}
}

func (s *Ask) allOpts() []*AskOpt {
	if s.Body == nil {
		return s.Head
	}
	return append(append([]*AskOpt(nil), s.Head...), s.Body.Clauses...)
}

func (s *Assign) allOpts() []*AssignOpt {
	if s.Body == nil {
		return s.Head
	}
	return append(append([]*AssignOpt(nil), s.Head...), s.Body.Clauses...)
}

func (s *HTTP) allOpts() []*HTTPOpt {
	if s.Body == nil {
		return s.Head
	}
	return append(append([]*HTTPOpt(nil), s.Head...), s.Body.Clauses...)
}

func (s *AI) allOpts() []*AIOpt {
	if s.Body == nil {
		return s.Head
	}
	return append(append([]*AIOpt(nil), s.Head...), s.Body.Clauses...)
}

// sendOpts returns the options of a send that apply to its default message: those
// on the first line and those inside the braces that are not channel variants.
func (s *Send) sendOpts() []*SendOpt {
	out := append([]*SendOpt(nil), s.Head...)
	if s.Body != nil {
		for _, c := range s.Body.Clauses {
			if c.Opt != nil {
				out = append(out, c.Opt)
			}
		}
	}
	return out
}

func (s *Send) variants() []*Variant {
	var out []*Variant
	if s.Body != nil {
		for _, c := range s.Body.Clauses {
			if c.Variant != nil {
				out = append(out, c.Variant)
			}
		}
	}
	return out
}
