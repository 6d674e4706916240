package dsl

import (
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/expr-lang/expr"
)

// A Type is the type of a value that expressions and interpolations read.
type Type int

const (
	TypeAny    Type = iota // unknown until run time: HTTP response values, webhook bodies
	TypeText               // string
	TypeNumber             // float64
	TypeInt                // int
	TypeBool               // bool
	TypeTime               // time.Time
	TypeList               // []string
)

var reflectTypes = map[Type]reflect.Type{
	TypeAny:    reflect.TypeOf((*any)(nil)).Elem(),
	TypeText:   reflect.TypeOf(""),
	TypeNumber: reflect.TypeOf(0.0),
	TypeInt:    reflect.TypeOf(0),
	TypeBool:   reflect.TypeOf(false),
	TypeTime:   reflect.TypeOf(time.Time{}),
	TypeList:   reflect.TypeOf([]string(nil)),
}

// Namespaces are the roots of the names a flow reads: $contact.email in text,
// contact.email in conditions. Every other name is a flow variable.
var Namespaces = []string{"contact", "assignee", "conversation", "system", "trigger"}

// ContactFields are the standard contact fields. Custom fields are declared in
// the flow with `field NAME TYPE`.
var ContactFields = map[string]Type{
	"id": TypeText, "name": TypeText, "firstname": TypeText, "lastname": TypeText,
	"email": TypeText, "phone": TypeText, "country": TypeText, "language": TypeText,
	"lifecycle": TypeText, "channel": TypeText, "tags": TypeList,
}

// writableContactFields are the standard fields a flow may set or clear; name,
// id, channel and tags are derived or have their own steps.
var writableContactFields = map[string]bool{
	"firstname": true, "lastname": true, "email": true, "phone": true,
	"country": true, "language": true, "lifecycle": true,
}

// standardFieldKinds are the value kinds of standard fields, for checking what
// an ask may save into them.
var standardFieldKinds = map[string]string{"email": "email", "phone": "phone"}

// AssigneeFields describe the user the conversation is assigned to.
var AssigneeFields = map[string]Type{
	"id": TypeText, "name": TypeText, "firstname": TypeText, "lastname": TypeText,
	"email": TypeText, "phone": TypeText, "status": TypeText, "team": TypeText,
}

// ConversationFields describe the contact's current conversation.
var ConversationFields = map[string]Type{
	"open": TypeBool, "source": TypeText,
	"last_incoming": TypeText, "last_incoming_at": TypeTime,
	"last_outgoing": TypeText, "last_outgoing_at": TypeTime, "last_outgoing_source": TypeText,
	"previous": TypeInt,
}

// SystemFields are the clock, in the workspace timezone.
var SystemFields = map[string]Type{
	"now": TypeTime, "current_datetime": TypeText, "current_date": TypeText,
	"current_time": TypeText, "timezone": TypeText,
}

// fieldTypes are the types a custom contact field may be declared with, and the
// type expressions see.
var fieldTypes = map[string]Type{
	"text": TypeText, "number": TypeNumber, "date": TypeText, "email": TypeText,
	"phone": TypeText, "url": TypeText, "checkbox": TypeBool, "list": TypeText,
}

// askTypes are the question types and the type of the answer they save.
var askTypes = map[string]Type{
	"text": TypeText, "choice": TypeText, "number": TypeNumber, "date": TypeText,
	"phone": TypeText, "email": TypeText, "url": TypeText, "rating": TypeInt, "location": TypeText,
}

// triggerFields are the trigger data each kind of trigger provides.
func triggerFields(t *Trigger) map[string]Type {
	fields := map[string]Type{"type": TypeText}
	if t == nil {
		return fields
	}
	switch ev := t.Event.(type) {
	case *ConversationEvent:
		fields["source"] = TypeText
		if ev.Action == "closed" {
			fields["category"] = TypeText
			fields["summary"] = TypeText
		}
	case *TagEvent:
		fields["tag"] = TypeText
	case *FieldEvent:
		fields["field"] = TypeText
		fields["old"] = TypeText
		fields["new"] = TypeText
	case *WebhookEvent:
		fields["body"] = TypeAny
	case *ManualEvent:
		fields["parent"] = TypeText
	case *ShortcutEvent:
		fields["user"] = TypeText
		for _, ff := range ev.Form {
			if ty, ok := fieldTypes[ff.Type.Name]; ok {
				fields[ff.Name.Name] = ty
			}
		}
	case *AdEvent:
		fields["platform"] = TypeText
		fields["ad_id"] = TypeText
		fields["referral"] = TypeAny // the platform's referral data, as it sent it
	}
	return fields
}

// A scope is everything a flow's expressions can name, with types.
type scope struct {
	ns    map[string]map[string]Type // namespace -> field -> type
	vars  map[string]Type            // flow variables
	env   any                        // the same, as a struct value expr can type-check against
	list  []string                   // names, once computed
	exprs [2]*ExprCompiler           // for any value and for conditions, once needed
}

// compiler returns the expression compiler for the scope: for conditions
// when asBool is set.
func (s *scope) compiler(asBool bool) *ExprCompiler {
	i := 0
	if asBool {
		i = 1
	}
	if s.exprs[i] == nil {
		opts := []expr.Option{expr.Env(s.env)}
		if asBool {
			opts = append(opts, expr.AsBool())
		}
		s.exprs[i] = NewExprCompiler(opts...)
	}
	return s.exprs[i]
}

func newScope(contact map[string]Type, trigger map[string]Type, vars map[string]Type) *scope {
	s := &scope{
		ns: map[string]map[string]Type{
			"contact": contact, "assignee": AssigneeFields, "conversation": ConversationFields,
			"system": SystemFields, "trigger": trigger,
		},
		vars: vars,
	}
	// One struct for the whole environment: expr then knows every name's type,
	// including variables of unknown shape (HTTP results), which it may index.
	var fields []reflect.StructField
	for _, name := range sortedKeys(s.ns) {
		fields = append(fields, exprField(len(fields), name, reflect.TypeOf(structValue(s.ns[name]))))
	}
	for _, name := range sortedKeys(vars) {
		fields = append(fields, exprField(len(fields), name, reflectTypes[vars[name]]))
	}
	s.env = reflect.New(reflect.StructOf(fields)).Elem().Interface()
	return s
}

// exprField is a struct field that expr knows by name.
func exprField(i int, name string, typ reflect.Type) reflect.StructField {
	return reflect.StructField{Name: "F" + strconv.Itoa(i), Type: typ, Tag: reflect.StructTag(`expr:"` + name + `"`)}
}

// structValue builds a zero struct whose expr names are the given fields, so
// that expr reports unknown fields and type errors inside a namespace.
func structValue(fields map[string]Type) any {
	names := sortedKeys(fields)
	sfs := make([]reflect.StructField, len(names))
	for i, n := range names {
		sfs[i] = exprField(i, n, reflectTypes[fields[n]])
	}
	return reflect.New(reflect.StructOf(sfs)).Elem().Interface()
}

// names lists what may start a reference: namespaces and variables.
func (s *scope) names() []string {
	if s.list == nil {
		s.list = append(append([]string(nil), Namespaces...), sortedKeys(s.vars)...)
	}
	return s.list
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
