// Package router matches HTTP request paths against route patterns and builds
// paths back from a route's name.
package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors returned (wrapped) by the router; compare them with errors.Is.
var (
	ErrInvalidRoute     = errors.New("invalid route")
	ErrDuplicateRoute   = errors.New("duplicate route")
	ErrNotFound         = errors.New("not found")
	ErrMethodNotAllowed = errors.New("method not allowed")
	ErrBadPath          = errors.New("bad path")
	ErrUnknownRoute     = errors.New("unknown route")
	ErrMissingParam     = errors.New("missing parameter")
)

// MethodNotAllowedError says which methods the path has routes for.
type MethodNotAllowedError struct {
	Allowed []string
}

// Error lists the allowed methods, as an Allow header would.
func (e *MethodNotAllowedError) Error() string {
	return "method not allowed (allow: " + strings.Join(e.Allowed, ", ") + ")"
}

// Is makes errors.Is(err, ErrMethodNotAllowed) hold.
func (e *MethodNotAllowedError) Is(target error) bool {
	return target == ErrMethodNotAllowed
}

// Match is the route a request path matched.
type Match struct {
	Name    string
	Pattern string
	Params  map[string]string
}

// Router holds routes and matches paths against them.
type Router struct {
	root  node
	names map[string]string // route name -> pattern
}

// New returns a router without routes.
func New() *Router {
	return &Router{names: map[string]string{}}
}

// Handle registers a route; a failing call changes nothing.
func (r *Router) Handle(method, pattern, name string) error {
	if !methodRE.MatchString(method) {
		return fmt.Errorf("%w: method %q is not upper-case letters", ErrInvalidRoute, method)
	}
	segs, err := parsePattern(pattern)
	if err != nil {
		return err
	}
	if p, ok := r.names[name]; ok && name != "" && p != pattern {
		return fmt.Errorf("%w: the name %q already names %s", ErrDuplicateRoute, name, p)
	}
	if n := r.root.find(segs); n != nil && n.routes[method] != nil {
		return fmt.Errorf("%w: %s %s is already %s", ErrDuplicateRoute, method, pattern,
			n.routes[method].pattern)
	}
	n := r.root.insert(segs)
	if n.routes == nil {
		n.routes = map[string]*route{}
	}
	n.routes[method] = &route{name: name, pattern: pattern, segments: segs}
	if name != "" {
		r.names[name] = pattern
	}
	return nil
}

// Match finds the most specific pattern for the path, then the route of the method
// (for HEAD, then of GET) registered with it.
func (r *Router) Match(method, path string) (Match, error) {
	segs, err := splitPath(path)
	if err != nil {
		return Match{}, err
	}
	n, values := r.root.best(segs, nil)
	if n == nil {
		return Match{}, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	rt := n.routes[method]
	if rt == nil && method == "HEAD" {
		rt = n.routes["GET"]
	}
	if rt != nil {
		return Match{Name: rt.name, Pattern: rt.pattern, Params: rt.params(values)}, nil
	}
	allowed := make([]string, 0, len(n.routes)+1)
	for m := range n.routes {
		allowed = append(allowed, m)
	}
	if n.routes["GET"] != nil && n.routes["HEAD"] == nil {
		allowed = append(allowed, "HEAD")
	}
	slices.Sort(allowed)
	return Match{}, &MethodNotAllowedError{Allowed: allowed}
}

// URL builds the path of the named route from its parameters.
func (r *Router) URL(name string, params map[string]string) (string, error) {
	pattern, ok := r.names[name]
	if !ok || name == "" {
		return "", fmt.Errorf("%w: %q", ErrUnknownRoute, name)
	}
	segs, err := parsePattern(pattern)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range segs {
		text, err := s.build(params)
		if err != nil {
			return "", fmt.Errorf("%w of route %q", err, name)
		}
		b.WriteByte('/')
		b.WriteString(text)
	}
	return b.String(), nil
}
