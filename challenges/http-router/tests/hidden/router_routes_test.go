package router_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"router"
)

func TestInvalidRoutes(t *testing.T) {
	cases := []struct {
		name    string
		method  string
		invalid []string
	}{
		{"shape", "GET", []string{"", "users", "/a//b", "/files/{name}.txt", "/files/v{n}", "/a/}"}},
		{"parameters", "GET", []string{
			"/a/{}", "/a/{1x}", "/a/{x-y}", "/a/{x}/{x}", "/a/{x}/b/{x...}", "/a/{rest...}/b", "/a/{...}",
		}},
		{"methods", "", []string{"get", "", "GE T", "GET1", "Get"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, item := range c.invalid {
				method, pattern := c.method, item
				if method == "" {
					method, pattern = item, "/ok"
				}
				r := router.New()
				err := r.Handle(method, pattern, "bad")
				expectError(t, fmt.Sprintf("Handle(%q, %q)", method, pattern), err, router.ErrInvalidRoute)
				if _, err := r.URL("bad", nil); !errors.Is(err, router.ErrUnknownRoute) {
					t.Fatalf("after refusing %s %q, URL(bad) error = %v: the route was kept", method, pattern, err)
				}
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	t.Run("same_shape_conflicts", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/users/{id}", "user"},
			testRoute{"GET", "/files/{a...}", "files"},
			testRoute{"GET", "/files/{a}", "file"},
		)
		err := r.Handle("GET", "/users/{uid}", "other")
		expectError(t, "GET /users/{uid} after GET /users/{id}", err, router.ErrDuplicateRoute)
		err = r.Handle("GET", "/files/{b...}", "tree")
		expectError(t, "GET /files/{b...} after GET /files/{a...}", err, router.ErrDuplicateRoute)
	})
	t.Run("other_method_ok", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/users/{id}", "user"},
			testRoute{"DELETE", "/users/{id}", "user"},
			testRoute{"PUT", "/users/{id}", ""},
		)
		expectMatch(t, r, "DELETE", "/users/9", "user", map[string]string{"id": "9"})
		expectMatch(t, r, "PUT", "/users/9", "", map[string]string{"id": "9"})
	})
	t.Run("name_bound_to_one_pattern", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/a", "x"},
			testRoute{"GET", "/c", ""},
			testRoute{"GET", "/d", ""},
		)
		err := r.Handle("POST", "/b", "x")
		expectError(t, "the name x for a second pattern", err, router.ErrDuplicateRoute)
	})
}

func TestFailedHandleChangesNothing(t *testing.T) {
	r := newTestRouter(t, testRoute{"GET", "/users/{id}", "user"})
	if err := r.Handle("POST", "/accounts/{id}", "user"); !errors.Is(err, router.ErrDuplicateRoute) {
		t.Fatalf("a name reused for another pattern: error = %v, want ErrDuplicateRoute", err)
	}
	_, err := r.Match("POST", "/accounts/1")
	expectError(t, "Match(POST, /accounts/1) after a refused Handle", err, router.ErrNotFound)
	if err := r.Handle("GET", "/users/{uid}", "again"); !errors.Is(err, router.ErrDuplicateRoute) {
		t.Fatalf("a duplicate route: error = %v, want ErrDuplicateRoute", err)
	}
	_, err = r.URL("again", map[string]string{"uid": "1"})
	expectError(t, "URL(again) after a refused Handle", err, router.ErrUnknownRoute)
	expectMatch(t, r, "GET", "/users/1", "user", map[string]string{"id": "1"})
}

func TestURLBuilding(t *testing.T) {
	r := newTestRouter(t,
		testRoute{"GET", "/search/{q}", "search"},
		testRoute{"GET", "/café/{x}", "cafe"},
		testRoute{"GET", "/static/{path...}", "static"},
		testRoute{"GET", "/users/{id}/posts/{post}", "post"},
		testRoute{"GET", "/", "root"},
		testRoute{"GET", "/anon", ""},
	)
	build := func(t *testing.T, name string, params map[string]string, want string) {
		t.Helper()
		got, err := r.URL(name, params)
		if err != nil || got != want {
			t.Fatalf("URL(%q, %v) = %q, %v; want %q", name, params, got, err, want)
		}
	}
	t.Run("escapes_segments", func(t *testing.T) {
		build(t, "search", map[string]string{"q": "a b/c?d"}, "/search/a%20b%2Fc%3Fd")
		build(t, "cafe", map[string]string{"x": "1"}, "/caf%C3%A9/1")
		build(t, "root", nil, "/")
	})
	t.Run("catch_all_keeps_slashes", func(t *testing.T) {
		build(t, "static", map[string]string{"path": "css/my site.css"}, "/static/css/my%20site.css")
		build(t, "static", map[string]string{"path": ""}, "/static/")
	})
	t.Run("errors", func(t *testing.T) {
		_, err := r.URL("nope", nil)
		expectError(t, "URL(nope)", err, router.ErrUnknownRoute)
		_, err = r.URL("", nil)
		expectError(t, `URL("")`, err, router.ErrUnknownRoute)
		_, err = r.URL("post", map[string]string{"id": "1"})
		expectError(t, "URL(post) without post", err, router.ErrMissingParam)
		_, err = r.URL("post", map[string]string{"id": "", "post": "2"})
		expectError(t, "URL(post) with an empty id", err, router.ErrMissingParam)
		_, err = r.URL("static", map[string]string{})
		expectError(t, "URL(static) without path", err, router.ErrMissingParam)
		build(t, "post", map[string]string{"id": "1", "post": "2", "extra": "x"}, "/users/1/posts/2")
	})
	t.Run("round_trip", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			params map[string]string
		}{
			{"search", map[string]string{"q": "100% sure"}},
			{"search", map[string]string{"q": "a/b"}},
			{"search", map[string]string{"q": "ünïcode & more"}},
			{"post", map[string]string{"id": "x y", "post": "#1"}},
			{"static", map[string]string{"path": "a/b c/d%e"}},
		} {
			url, err := r.URL(c.name, c.params)
			if err != nil {
				t.Fatalf("URL(%q, %v) error = %v", c.name, c.params, err)
			}
			m, err := r.Match("GET", url)
			if err != nil || m.Name != c.name || !maps.Equal(m.Params, c.params) {
				t.Fatalf("Match(GET, %q) = %q %v, %v; want %q %v", url, m.Name, m.Params, err, c.name, c.params)
			}
		}
	})
}
