package router_test

import (
	"errors"
	"maps"
	"testing"

	"router"
)

// testRoute is one registration for newTestRouter.
type testRoute struct {
	method, pattern, name string
}

// newTestRouter registers the routes in order, failing the test if one is refused.
func newTestRouter(t *testing.T, routes ...testRoute) *router.Router {
	t.Helper()
	r := router.New()
	for _, rt := range routes {
		if err := r.Handle(rt.method, rt.pattern, rt.name); err != nil {
			t.Fatalf("Handle(%q, %q, %q) = %v, want nil", rt.method, rt.pattern, rt.name, err)
		}
	}
	return r
}

// expectMatch fails the test unless the request matches the named route with params.
func expectMatch(t *testing.T, r *router.Router, method, path, name string, params map[string]string) {
	t.Helper()
	m, err := r.Match(method, path)
	if err != nil {
		t.Fatalf("Match(%q, %q) error = %v, want route %q", method, path, err, name)
	}
	if m.Name != name || !maps.Equal(m.Params, params) {
		t.Fatalf("Match(%q, %q) = route %q params %v, want route %q params %v",
			method, path, m.Name, m.Params, name, params)
	}
}

// expectError fails the test unless err is (or wraps) target.
func expectError(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", what, err, target)
	}
}
