// Package dsl owns the .flow language: scanning, parsing into a syntax tree,
// checking (every problem, with file:line:col and a hint), and formatting.
//
// A .flow file holds one flow: a name, exactly one trigger, optional settings,
// then steps.
//
//	# Request Consent: Privacy
//	flow "Request Consent: Privacy"
//	trigger conversation opened by contact
//	  once per contact
//	group "inbound" priority 1
//
//	send "Please read our privacy policy: https://example.com/privacy"
//	ask choice "Do you accept?" choices "ACCEPT AND CONTINUE" retry 3 timeout 5m {
//	  on invalid {
//	    send "Sorry, we need your consent to go on."
//	    stop
//	  }
//	  on timeout {
//	    send "We did not hear back from you."
//	    close conversation
//	    stop
//	  }
//	}
//	send "Thank you!"
//	tag add "Consent: Privacy"
//
// The pipeline is Parse (source to *File, stopping at the first syntax error),
// Check (all semantic errors and warnings of one file), CheckProject (problems
// across files, such as a start step naming a missing flow) and Format (the
// canonical layout, comments kept). The grammar is derived from the types in
// ast.go; Grammar prints it as EBNF. docs/language.md is the reference for
// authors.
//
// Blocks fall through: when a branch (on timeout { ... }, else { ... }) ends,
// the run continues with the step after the one that owns the branch; stop
// ends the run.
package dsl
