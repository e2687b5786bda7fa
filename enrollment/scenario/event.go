package scenario

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edufund/edufund/funding"
)

// event is one entry of a scenario's events: a kind with its arguments, and
// the keys every event may carry.
type event struct {
	eventMeta
	kind string
	args any // a pointer to the kind's arguments
	line int
	path string // "events[3]"
}

// eventMeta are the keys every event may carry beside its kind.
type eventMeta struct {
	// On is the region's local date from which this event on happens (the
	// previous event's date when left out).
	On funding.Date `yaml:"on"`
	// At is the local time of day ("10:30"), 09:00 when a new date is given
	// without it.
	At clockTime `yaml:"at"`
	// By is who acts, when not the kind's usual caller.
	By callerSpec `yaml:"by"`
	// Key is the idempotency key: the same key twice replays the first result.
	Key string `yaml:"key"`
	// As names the contract a submit or prolong creates.
	As string `yaml:"as"`
}

var metaKeys = func() []string {
	var ks []string
	t := reflect.TypeFor[eventMeta]()
	for i := range t.NumField() {
		ks = append(ks, t.Field(i).Tag.Get("yaml"))
	}
	return ks
}()

func (e *event) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "must be a mapping: an event kind (such as submit: …) and, if need be, on:, at:, by:, key:, as:")
	}
	e.line, e.path = n.Line, path
	meta := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if slices.Contains(metaKeys, k.Value) {
			meta.Content = append(meta.Content, k, val)
			continue
		}
		kind, ok := kinds[k.Value]
		if !ok {
			return d.errorf(k, join(path, k.Value), "is not an event kind nor a key of an event; the kinds are: %s; the keys: %s",
				strings.Join(kindNames(), ", "), strings.Join(metaKeys, ", "))
		}
		if e.kind != "" {
			return d.errorf(k, join(path, k.Value), "is a second event kind in one event (the first is %s): give each its own entry (- …)", e.kind)
		}
		e.kind = k.Value
		e.args = kind.args()
		d.lines[join(path, k.Value)] = k.Line
		if err := d.decode(val, reflect.ValueOf(e.args).Elem(), join(path, k.Value)); err != nil {
			return err
		}
	}
	if e.kind == "" {
		return d.errorf(n, path, "names no event kind; the kinds are: %s", strings.Join(kindNames(), ", "))
	}
	if err := d.decode(meta, reflect.ValueOf(&e.eventMeta).Elem(), path); err != nil {
		return err
	}
	if e.As != "" && !kinds[e.kind].contract {
		return d.errorf(n, join(path, "as"), "names a contract, and %s creates none (submit and prolong do)", e.kind)
	}
	return nil
}

// kindNames lists the kinds of events, sorted.
func kindNames() []string { return slices.Sorted(maps.Keys(kinds)) }

// clockTime is a local time of day written "10:30".
type clockTime struct {
	set          bool
	hour, minute int
}

func (c *clockTime) UnmarshalText(b []byte) error {
	t, err := time.Parse("15:04", string(b))
	if err != nil {
		return fmt.Errorf("must be a time of day such as 10:30, got %q", b)
	}
	*c = clockTime{set: true, hour: t.Hour(), minute: t.Minute()}
	return nil
}
