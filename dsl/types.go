package dsl

import (
	"fmt"
	"regexp"
	"strings"

	exprast "github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// expr-lang reports a type error in Go's words (mismatched types float64 and
// string); an author thinks in numbers and texts. TypeMessage rewords the
// checker's form and the VM's, and hints at the usual cause: a number held
// as text, as a CRM's answer often is.
var (
	reMismatch2 = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (.+) and (.+)\)$`)
	reMismatch1 = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched type (.+)\)$`)
	reRunBinary = regexp.MustCompile(`^invalid operation: (\S+) (\S+) (\S+)$`) // A OP B
	reRunUnary  = regexp.MustCompile(`^invalid operation: ([-+!]|not) (\S+)$`) // OP A
)

// numberTextHint is the hint for a number meeting a text.
const numberTextHint = `a text that holds a number, as an HTTP or CRM answer often does, converts with int() or float(): int(Score) > 3; a number in quotes is a text`

// TypeMessage rewords a type error of expr-lang in an author's words, with
// a hint when it has one; another message comes back as it is.
func TypeMessage(msg string) (string, string) {
	var op string
	var types []string
	switch {
	case reMismatch2.MatchString(msg):
		m := reMismatch2.FindStringSubmatch(msg)
		op, types = m[1], m[2:]
	case reMismatch1.MatchString(msg):
		m := reMismatch1.FindStringSubmatch(msg)
		op, types = m[1], m[2:]
	case reRunUnary.MatchString(msg):
		m := reRunUnary.FindStringSubmatch(msg)
		op, types = m[1], m[2:]
	case reRunBinary.MatchString(msg):
		m := reRunBinary.FindStringSubmatch(msg)
		op, types = m[2], []string{m[1], m[3]}
	default:
		return msg, ""
	}
	words := make([]string, len(types))
	for i, t := range types {
		words[i] = typeWord(t)
	}
	if len(words) == 1 {
		return fmt.Sprintf("cannot use %s on %s", op, words[0]), ""
	}
	out := fmt.Sprintf("cannot use %s on %s and %s", op, words[0], words[1])
	if (words[0] == "a number" && words[1] == "a text") || (words[0] == "a text" && words[1] == "a number") {
		return out, numberTextHint
	}
	return out, ""
}

// typeWord names a Go type as an author would.
func typeWord(t string) string {
	switch {
	case t == "string":
		return "a text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a map"
	case t == "time.Time":
		return "a time"
	case t == "time.Duration":
		return "a duration"
	case t == "<nil>" || t == "nil":
		return "nothing (nil)"
	case t == "interface {}" || t == "any":
		return "a value"
	case strings.HasPrefix(t, "struct"):
		return "a namespace (contact, conversation, ...)"
	}
	return t
}

// neverTrue says why a trigger condition, as the checker parsed it, can
// never hold, or "": it is the
// constant false, or it requires one value to equal two different
// constants (channel == "a" && channel == "b").
func neverTrue(tree *exprparser.Tree) string {
	if tree == nil {
		return "" // it does not compile: the checker said why
	}
	if b, ok := tree.Node.(*exprast.BoolNode); ok && !b.Value {
		return "the condition is false"
	}
	equals := map[string]string{} // operand -> the constant it must equal
	var why string
	var walk func(n exprast.Node)
	walk = func(n exprast.Node) {
		b, ok := n.(*exprast.BinaryNode)
		if !ok || why != "" {
			return
		}
		switch b.Operator {
		case "&&", "and":
			walk(b.Left)
			walk(b.Right)
		case "==":
			operand, constant := b.Left, b.Right
			if isConstant(operand) {
				operand, constant = constant, operand
			}
			if !isConstant(constant) || isConstant(operand) {
				return
			}
			key, value := operand.String(), constant.String()
			if prev, seen := equals[key]; seen && prev != value {
				why = fmt.Sprintf("%s cannot equal both %s and %s", key, prev, value)
			}
			equals[key] = value
		}
	}
	walk(tree.Node)
	return why
}

func isConstant(n exprast.Node) bool {
	switch n.(type) {
	case *exprast.StringNode, *exprast.IntegerNode, *exprast.FloatNode, *exprast.BoolNode, *exprast.NilNode:
		return true
	}
	return false
}
