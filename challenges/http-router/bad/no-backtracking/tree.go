package router

import "strings"

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

// lookup follows the most specific branch at each segment: static, then parameter,
// then catch-all.
func (n *node) lookup(segs []string, method string, values []string) (*route, []string) {
	for i, seg := range segs {
		switch {
		case n.statics[seg] != nil:
			n = n.statics[seg]
		case n.param != nil && seg != "":
			n = n.param
			values = append(values, seg)
		case n.catchAll != nil:
			return n.catchAll.routes[method], append(values, strings.Join(segs[i:], "/"))
		default:
			return nil, nil
		}
	}
	return n.routes[method], values
}

// methods adds the methods of every route whose pattern matches segs.
func (n *node) methods(segs []string, found map[string]bool) {
	if len(segs) == 0 {
		for m := range n.routes {
			found[m] = true
		}
		return
	}
	if next := n.statics[segs[0]]; next != nil {
		next.methods(segs[1:], found)
	}
	if n.param != nil && segs[0] != "" {
		n.param.methods(segs[1:], found)
	}
	if n.catchAll != nil {
		for m := range n.catchAll.routes {
			found[m] = true
		}
	}
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
