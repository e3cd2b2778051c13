package router

import (
	"slices"
	"strings"
)

// node is one segment position in the tree of patterns.
type node struct {
	statics  map[string]*node
	param    *node
	catchAll *node
	routes   map[string]*route // by method, for the patterns that end here
}

// child returns the node for one pattern segment (nil if absent), creating it
// when create is set.
func (n *node) child(s segment, create bool) *node {
	var slot **node
	switch s.kind {
	case static:
		if next, ok := n.statics[s.text]; ok || !create {
			return next
		}
		if n.statics == nil {
			n.statics = map[string]*node{}
		}
		n.statics[s.text] = &node{}
		return n.statics[s.text]
	case param:
		slot = &n.param
	default:
		slot = &n.catchAll
	}
	if *slot == nil && create {
		*slot = &node{}
	}
	return *slot
}

func (n *node) find(segs []segment) *node {
	for _, s := range segs {
		if n = n.child(s, false); n == nil {
			return nil
		}
	}
	return n
}

func (n *node) insert(segs []segment) *node {
	for _, s := range segs {
		n = n.child(s, true)
	}
	return n
}

// best finds the most specific pattern that matches segs, whatever its methods.
func (n *node) best(segs []string, values []string) (*node, []string) {
	if len(segs) == 0 {
		if len(n.routes) == 0 {
			return nil, nil
		}
		return n, values
	}
	seg, rest := segs[0], segs[1:]
	values = slices.Clip(values)
	if next := n.statics[seg]; next != nil {
		if found, v := next.best(rest, values); found != nil {
			return found, v
		}
	}
	if n.param != nil && seg != "" {
		if found, v := n.param.best(rest, append(values, seg)); found != nil {
			return found, v
		}
	}
	if n.catchAll != nil && len(n.catchAll.routes) > 0 {
		return n.catchAll, append(values, strings.Join(segs, "/"))
	}
	return nil, nil
}

func (rt *route) params(values []string) map[string]string {
	params := make(map[string]string, len(values))
	i := 0
	for _, s := range rt.segments {
		if s.kind != static {
			params[s.text] = values[i]
			i++
		}
	}
	return params
}
