package config

import (
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps each key of a TOML document, as a path such as
// "channels[1].url", to where its value starts, so that a check of the
// decoded value can point at it: the decoder gives positions only for
// errors of its own.
func positions(name string, src []byte) map[string]lexer.Position {
	out := map[string]lexer.Position{}
	p := unstable.Parser{}
	p.Reset(src)
	var table string
	arrays := map[string]int{} // the count of each array of tables so far
	at := func(r unstable.Range) lexer.Position {
		sh := p.Shape(r)
		return lexer.Position{Filename: name, Offset: sh.Start.Offset, Line: sh.Start.Line, Column: sh.Start.Column}
	}
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			key := keyPath(n.Key())
			if n.Kind == unstable.ArrayTable {
				base := key
				key += "[" + strconv.Itoa(arrays[base]) + "]"
				arrays[base]++
			}
			table = key
			out[table] = at(n.Raw)
		case unstable.KeyValue:
			key := keyPath(n.Key())
			if table != "" {
				key = table + "." + key
			}
			v := n.Value()
			out[key] = at(v.Raw)
			if v.Kind == unstable.Array {
				it := v.Children()
				for i := 0; it.Next(); i++ {
					out[key+"["+strconv.Itoa(i)+"]"] = at(it.Node().Raw)
				}
			}
		}
	}
	return out
}

func keyPath(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}
