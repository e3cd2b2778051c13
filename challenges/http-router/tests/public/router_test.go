package router_test

import (
	"errors"
	"slices"
	"testing"

	"router"
)

func TestStaticAndParams(t *testing.T) {
	r := newTestRouter(t,
		testRoute{"GET", "/health", "health"},
		testRoute{"GET", "/users/{id}", "user"},
		testRoute{"GET", "/users/{id}/posts/{post}", "post"},
	)
	cases := []struct {
		name   string
		path   string
		route  string
		params map[string]string
	}{
		{"static", "/health", "health", map[string]string{}},
		{"one_param", "/users/42", "user", map[string]string{"id": "42"}},
		{"two_params", "/users/42/posts/7", "post", map[string]string{"id": "42", "post": "7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectMatch(t, r, "GET", c.path, c.route, c.params)
		})
	}
}

func TestNotFound(t *testing.T) {
	r := newTestRouter(t, testRoute{"GET", "/users/{id}", "user"})
	for _, path := range []string{"/users", "/users/1/2", "/accounts/1", "/"} {
		_, err := r.Match("GET", path)
		expectError(t, "Match(GET, "+path+")", err, router.ErrNotFound)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	r := newTestRouter(t,
		testRoute{"GET", "/users/{id}", "user"},
		testRoute{"DELETE", "/users/{id}", "user"},
	)
	_, err := r.Match("POST", "/users/1")
	var mna *router.MethodNotAllowedError
	if !errors.As(err, &mna) {
		t.Fatalf("Match(POST, /users/1) error = %v, want a *MethodNotAllowedError", err)
	}
	if want := []string{"DELETE", "GET", "HEAD"}; !slices.Equal(mna.Allowed, want) {
		t.Errorf("Allowed = %v, want %v", mna.Allowed, want)
	}
	expectError(t, "Match(POST, /users/1)", err, router.ErrMethodNotAllowed)
}

func TestCatchAll(t *testing.T) {
	r := newTestRouter(t, testRoute{"GET", "/static/{path...}", "static"})
	expectMatch(t, r, "GET", "/static/css/site.css", "static", map[string]string{"path": "css/site.css"})
	expectMatch(t, r, "GET", "/static/", "static", map[string]string{"path": ""})
	_, err := r.Match("GET", "/static")
	expectError(t, "Match(GET, /static)", err, router.ErrNotFound)
}

func TestURL(t *testing.T) {
	r := newTestRouter(t, testRoute{"GET", "/users/{id}/posts/{post}", "post"})
	got, err := r.URL("post", map[string]string{"id": "42", "post": "hello world"})
	if want := "/users/42/posts/hello%20world"; err != nil || got != want {
		t.Fatalf("URL(post) = %q, %v; want %q, nil", got, err, want)
	}
}
