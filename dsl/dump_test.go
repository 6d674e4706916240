package dsl_test

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowd/flowd/dsl"
)

// dump prints a syntax tree as an indented outline, one node per line:
//
//	Send 7:1
//	  Text: Text 7:6 Raw="\"Hi $contact.firstname\""
//	    ref 7:11 "contact.firstname"
//
// A node line holds its type, its position as line:col and its scalar fields;
// the nodes it holds follow, indented, one per line, named after the field
// (with an index for lists). Empty fields are left out, and so is File.Src. A
// Raw text is shown as written, quotes included, unless it spans lines.
// A Text whose value is not just its characters between the quotes (escapes,
// $references, ${expressions}) also lists its segments with their positions.
// The output depends only on the tree, so every grammar change shows up in the
// parse golden files as a readable diff.
func dump(f *dsl.File) string {
	var b strings.Builder
	dumpNode(&b, 0, "", reflect.ValueOf(f))
	return b.String()
}

// rePosition matches the positions in a dump: " 12:3" after a type name and
// " EndPos=12:3" among the fields.
var rePosition = regexp.MustCompile(` (\w+=)?\d+:\d+\b`)

var (
	positionType = reflect.TypeOf(lexer.Position{})
	tokenType    = reflect.TypeOf(lexer.Token{})
	bytesType    = reflect.TypeOf([]byte(nil))
)

func pos(p lexer.Position) string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// dumpNode writes the node v (a pointer, an interface or a struct) on a line
// of its own, prefixed with name, then its children one level deeper.
func dumpNode(b *strings.Builder, depth int, name string, v reflect.Value) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	t := v.Type()
	line := []string{t.Name()}
	if p := v.FieldByName("Pos"); p.IsValid() && p.Type() == positionType {
		line = append(line, pos(p.Interface().(lexer.Position)))
	}
	type child struct {
		name string
		v    reflect.Value
	}
	var children []child
	for i := 0; i < t.NumField(); i++ {
		sf, fv := t.Field(i), v.Field(i)
		if !sf.IsExported() || sf.Name == "Pos" || fv.IsZero() || fv.Type() == bytesType {
			continue
		}
		switch {
		case sf.Name == "Raw" && !strings.ContainsAny(fv.String(), "\n\r\t"):
			line = append(line, "Raw="+fv.String()) // quotes included, as written
		case fv.Type() == positionType:
			line = append(line, sf.Name+"="+pos(fv.Interface().(lexer.Position)))
		case fv.Type() == tokenType:
			line = append(line, sf.Name+"="+pos(fv.Interface().(lexer.Token).Pos))
		case fv.Kind() == reflect.String:
			line = append(line, fmt.Sprintf("%s=%q", sf.Name, fv.String()))
		case fv.Kind() == reflect.Bool, fv.Kind() == reflect.Int:
			line = append(line, fmt.Sprintf("%s=%v", sf.Name, fv.Interface()))
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			line = append(line, fmt.Sprintf("%s=%q", sf.Name, fv.Interface()))
		case fv.Kind() == reflect.Slice:
			for j := 0; j < fv.Len(); j++ {
				children = append(children, child{fmt.Sprintf("%s[%d]", sf.Name, j), fv.Index(j)})
			}
		default:
			children = append(children, child{sf.Name, fv})
		}
	}
	indent := strings.Repeat("  ", depth)
	if name != "" {
		name += ": "
	}
	fmt.Fprintf(b, "%s%s%s\n", indent, name, strings.Join(line, " "))
	for _, c := range children {
		dumpNode(b, depth+1, c.name, c.v)
	}
	if t == reflect.TypeOf(dsl.Text{}) {
		dumpSegments(b, depth+1, v.Addr().Interface().(*dsl.Text))
	}
}

var segmentKinds = map[dsl.SegmentKind]string{dsl.Literal: "lit", dsl.RefSegment: "ref", dsl.ExprSegment: "expr"}

// dumpSegments lists the pieces of an interpolated or escaped text.
func dumpSegments(b *strings.Builder, depth int, t *dsl.Text) {
	segs := t.Segments()
	if len(segs) == 0 || len(segs) == 1 && segs[0].Kind == dsl.Literal && segs[0].Value == t.Raw[1:len(t.Raw)-1] {
		return
	}
	indent := strings.Repeat("  ", depth)
	for _, s := range segs {
		fmt.Fprintf(b, "%s%s %s %q\n", indent, segmentKinds[s.Kind], pos(t.PosAt(s.Offset)), s.Value)
	}
}
