package scenario

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/edufund/edufund/funding"
)

// Error is a scenario file that cannot be read or run as written: it names
// the file, the line and the key (a path such as
// "events[3].submit.group") and says what is wrong.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// decoder reads a YAML node tree into Go values strictly: every key must be
// one the target knows, no key may repeat, and a scalar is read from its
// literal text (an amount is never a float on its way in). It records the
// line of every key it reads, so that later errors can name it.
//
// yaml.v3's own KnownFields does not reach the values that custom
// unmarshalers decode (the events, the named maps), so the walk is ours.
type decoder struct {
	file  string
	lines map[string]int // key path → line
}

// nodeDecoder is a type that reads itself from a node, such as a named map
// or an event.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string) error
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Key: path, Msg: fmt.Sprintf(format, args...)}
}

// decode reads n into the value v points to.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.lines != nil {
		if _, seen := d.lines[path]; !seen {
			d.lines[path] = n.Line
		}
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n)) // read later, by whoever knows its form
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // an empty value leaves the default
	}
	if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
		return nd.decodeNode(d, n, path)
	}
	if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if n.Kind != yaml.ScalarNode {
			return d.errorf(n, path, "must be a single value, not a %s", kindName(n))
		}
		if err := tu.UnmarshalText([]byte(n.Value)); err != nil {
			return d.errorf(n, path, "%s", ruleOf(err))
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		given := map[string]bool{}
		if err := d.decodeStruct(n, v, path, given); err != nil {
			return err
		}
		return d.required(n, v.Type(), path, given)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n, path, "must be a list (lines starting with \"- \", or [a, b])")
		}
		v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
		for i, e := range n.Content {
			if err := d.decode(e, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.errorf(n, path, "must be a mapping of keys to values")
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		return d.eachKey(n, path, func(k, val *yaml.Node, at string) error {
			key := reflect.New(v.Type().Key())
			if err := d.decode(k, key.Elem(), at); err != nil {
				return err
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, e, at); err != nil {
				return err
			}
			v.SetMapIndex(key.Elem(), e)
			return nil
		})
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "must be a single value, not a %s", kindName(n))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return d.errorf(n, path, "must be a whole number, got %q", n.Value)
		}
		v.SetInt(i)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil || (n.Value != "true" && n.Value != "false") {
			return d.errorf(n, path, "must be true or false, got %q", n.Value)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("scenario: %s: cannot decode into %s", path, v.Type())
	}
	return nil
}

var nodeType = reflect.TypeFor[yaml.Node]()

// eachKey calls fn for every key of mapping n in order, refusing a key
// given twice.
func (d *decoder) eachKey(n *yaml.Node, path string, fn func(k, val *yaml.Node, at string) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		at := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			return d.errorf(k, at, "is given twice (first at line %d)", line)
		}
		seen[k.Value] = k.Line
		if d.lines != nil {
			d.lines[at] = k.Line
		}
		if err := fn(k, val, at); err != nil {
			return err
		}
	}
	return nil
}

// decodeStruct reads mapping n into struct v, noting the keys it gives.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, given map[string]bool) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "must be a mapping of keys to values, not a %s", kindName(n))
	}
	fields := map[string]int{}
	var known []string
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		known = append(known, name)
	}
	return d.eachKey(n, path, func(k, val *yaml.Node, at string) error {
		if k.Tag == "!!merge" { // "<<: *anchor" copies the anchored mapping's keys; later keys override them
			return d.merge(val, v, path, given)
		}
		i, ok := fields[k.Value]
		if !ok {
			return d.errorf(k, at, "is not a known key here; the keys are: %s", strings.Join(known, ", "))
		}
		given[k.Value] = true
		return d.decode(val, v.Field(i), at)
	})
}

// required refuses a struct of type t read from n that lacks a key its
// fields mark ",required".
func (d *decoder) required(n *yaml.Node, t reflect.Type, path string, given map[string]bool) error {
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if opts == "required" && !given[name] {
			return d.errorf(n, join(path, name), "is required")
		}
	}
	return nil
}

// merge decodes the mappings a merge key names (one, or a list) into
// struct v, noting the keys they give.
func (d *decoder) merge(val *yaml.Node, v reflect.Value, path string, given map[string]bool) error {
	from := []*yaml.Node{val}
	if val.Kind == yaml.SequenceNode {
		from = val.Content
	}
	for _, m := range from {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		if err := d.decodeStruct(m, v, path, given); err != nil {
			return err
		}
	}
	return nil
}

// named is a mapping of names to values that keeps the order and the line
// of each entry: the people, providers and groups of a scenario, the
// certificates an expectation looks at.
type named[T any] []entry[T]

type entry[T any] struct {
	Name  string
	Line  int
	Path  string
	Value T
}

func (m *named[T]) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "must be a mapping of names to their values")
	}
	*m = nil
	return d.eachKey(n, path, func(k, val *yaml.Node, at string) error {
		e := entry[T]{Name: k.Value, Line: k.Line, Path: at}
		if err := d.decode(val, reflect.ValueOf(&e.Value).Elem(), at); err != nil {
			return err
		}
		*m = append(*m, e)
		return nil
	})
}

// join is the key path of key under path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// ruleOf is the rule an error states, without the field name a domain
// validation error carries (the key path names the field here).
func ruleOf(err error) string {
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		if ve.Value == "" {
			return ve.Rule
		}
		return fmt.Sprintf("%s, got %q", ve.Rule, ve.Value)
	}
	return err.Error()
}

// syntaxLine finds the line in a YAML syntax error ("yaml: line 7: …").
var syntaxLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parserProblems are the syntax errors of yaml.v3's parser, as opposed to
// its scanner's. The parser reports the line where the broken construct
// (a flow mapping, a block sequence) starts counted from 0, the scanner
// counted from 1 (yaml.v3's parser.fail), so the parser's is one short.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected key", "did not find expected node content",
	"found duplicate %TAG directive", "found duplicate %YAML directive", "found incompatible YAML document", "found undefined tag handle",
}

// syntaxError is a YAML syntax error as an *Error of file.
func syntaxError(file string, err error) error {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: file, Msg: "not valid YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	if slices.Contains(parserProblems, m[2]) {
		line++
	}
	return &Error{File: file, Line: line, Msg: "not valid YAML: " + m[2]}
}
