package router_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"router"
)

func TestPriority(t *testing.T) {
	cases := []struct {
		name   string
		routes []testRoute
		path   string
		want   string
		params map[string]string
	}{
		{"static_beats_param",
			[]testRoute{{"GET", "/users/new", "new"}, {"GET", "/users/{id}", "user"}},
			"/users/new", "new", map[string]string{}},
		{"param_beats_catch_all",
			[]testRoute{{"GET", "/files/{name}", "file"}, {"GET", "/files/{path...}", "tree"}},
			"/files/a.txt", "file", map[string]string{"name": "a.txt"}},
		{"static_beats_catch_all",
			[]testRoute{{"GET", "/files/index", "index"}, {"GET", "/files/{path...}", "tree"}},
			"/files/index", "index", map[string]string{}},
		{"backtracks_from_static",
			[]testRoute{{"GET", "/users/new", "new"}, {"GET", "/users/{id}/edit", "edit"}},
			"/users/new/edit", "edit", map[string]string{"id": "new"}},
		{"param_falls_back_to_catch_all",
			[]testRoute{{"GET", "/files/{name}", "file"}, {"GET", "/files/{path...}", "tree"}},
			"/files/a/b.txt", "tree", map[string]string{"path": "a/b.txt"}},
		{"backtracks_across_levels",
			[]testRoute{
				{"GET", "/a/b/c", "abc"},
				{"GET", "/a/{x}/d", "axd"},
				{"GET", "/{y}/b/e", "ybe"},
			},
			"/a/b/e", "ybe", map[string]string{"y": "a"}},
		{"leftmost_segment_decides",
			[]testRoute{{"GET", "/{kind}/list", "list"}, {"GET", "/users/{id}", "user"}},
			"/users/list", "user", map[string]string{"id": "list"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The order of registration never matters.
			backwards := slices.Clone(c.routes)
			slices.Reverse(backwards)
			for _, routes := range [][]testRoute{c.routes, backwards} {
				r := newTestRouter(t, routes...)
				expectMatch(t, r, "GET", c.path, c.want, c.params)
			}
		})
	}
}

func TestMatchDetails(t *testing.T) {
	t.Run("trailing_slash_and_root", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/", "root"},
			testRoute{"GET", "/users", "list"},
			testRoute{"GET", "/users/", "slash"},
		)
		expectMatch(t, r, "GET", "/", "root", map[string]string{})
		expectMatch(t, r, "GET", "/users", "list", map[string]string{})
		expectMatch(t, r, "GET", "/users/", "slash", map[string]string{})
	})
	t.Run("percent_decoding", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/café", "cafe"},
			testRoute{"GET", "/tags/{tag}", "tag"},
		)
		expectMatch(t, r, "GET", "/caf%C3%A9", "cafe", map[string]string{})
		expectMatch(t, r, "GET", "/tags/c%2B%2B", "tag", map[string]string{"tag": "c++"})
		expectMatch(t, r, "GET", "/tags/a%20b", "tag", map[string]string{"tag": "a b"})
	})
	t.Run("encoded_slash_stays_in_segment", func(t *testing.T) {
		r := newTestRouter(t, testRoute{"GET", "/files/{name}", "file"})
		expectMatch(t, r, "GET", "/files/a%2Fb", "file", map[string]string{"name": "a/b"})
		_, err := r.Match("GET", "/files/a/b")
		expectError(t, "Match(GET, /files/a/b)", err, router.ErrNotFound)
	})
	t.Run("result_fields", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/about", "about"},
			testRoute{"GET", "/users/{uid}", ""},
		)
		m, err := r.Match("GET", "/about")
		if err != nil || m.Name != "about" || m.Pattern != "/about" || m.Params == nil || len(m.Params) != 0 {
			t.Fatalf("Match(GET, /about) = %+v, %v; want about, /about, empty non-nil params", m, err)
		}
		m, err = r.Match("GET", "/users/7")
		if err != nil || m.Name != "" || m.Pattern != "/users/{uid}" || m.Params["uid"] != "7" {
			t.Fatalf("Match(GET, /users/7) = %+v, %v; want the unnamed /users/{uid} route", m, err)
		}
	})
	t.Run("empty_segment_never_matches_param", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/users/{id}", "user"},
			testRoute{"GET", "/a/{x}/b", "axb"},
		)
		for _, path := range []string{"/users/", "/a//b"} {
			_, err := r.Match("GET", path)
			expectError(t, "Match(GET, "+path+")", err, router.ErrNotFound)
		}
	})
}

func TestMethods(t *testing.T) {
	t.Run("head_falls_back_to_get", func(t *testing.T) {
		r := newTestRouter(t, testRoute{"GET", "/users/{id}", "user"})
		expectMatch(t, r, "HEAD", "/users/1", "user", map[string]string{"id": "1"})
	})
	t.Run("head_route_preferred", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/ping", "ping"},
			testRoute{"HEAD", "/ping", "head-ping"},
		)
		expectMatch(t, r, "HEAD", "/ping", "head-ping", map[string]string{})
		expectMatch(t, r, "GET", "/ping", "ping", map[string]string{})
	})
	t.Run("allowed_lists_every_matching_route", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/users/{id}", "user"},
			testRoute{"DELETE", "/users/{id}", "user"},
			testRoute{"POST", "/users/new", "create"},
			testRoute{"PUT", "/users/{id}/name", "rename"},
			testRoute{"OPTIONS", "/{any...}", "cors"},
		)
		_, err := r.Match("PATCH", "/users/new")
		var mna *router.MethodNotAllowedError
		if !errors.As(err, &mna) {
			t.Fatalf("Match(PATCH, /users/new) error = %v, want a *MethodNotAllowedError", err)
		}
		want := []string{"DELETE", "GET", "HEAD", "OPTIONS", "POST"}
		if !slices.Equal(mna.Allowed, want) {
			t.Fatalf("Allowed = %v, want %v", mna.Allowed, want)
		}
		if got, msg := err.Error(), "method not allowed (allow: DELETE, GET, HEAD, OPTIONS, POST)"; got != msg {
			t.Fatalf("Error() = %q, want %q", got, msg)
		}
	})
	t.Run("other_methods_do_not_shadow", func(t *testing.T) {
		r := newTestRouter(t,
			testRoute{"GET", "/users/new", "new"},
			testRoute{"POST", "/users/{id}", "update"},
		)
		expectMatch(t, r, "POST", "/users/new", "update", map[string]string{"id": "new"})
	})
	t.Run("method_is_case_sensitive", func(t *testing.T) {
		r := newTestRouter(t, testRoute{"GET", "/x", "x"})
		_, err := r.Match("get", "/x")
		var mna *router.MethodNotAllowedError
		if !errors.As(err, &mna) || !slices.Equal(mna.Allowed, []string{"GET", "HEAD"}) {
			t.Fatalf("Match(get, /x) error = %v, want method not allowed (GET, HEAD)", err)
		}
	})
}

func TestBadPath(t *testing.T) {
	r := newTestRouter(t, testRoute{"GET", "/users/{id}", "user"}, testRoute{"GET", "/{all...}", "all"})
	cases := []struct {
		name  string
		paths []string
	}{
		{"no_leading_slash", []string{"users/1", "", "*"}},
		{"bad_escape", []string{"/users/%zz", "/users/%4", "/%"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range c.paths {
				_, err := r.Match("GET", path)
				expectError(t, fmt.Sprintf("Match(GET, %q)", path), err, router.ErrBadPath)
			}
		})
	}
}

func TestLargeTable(t *testing.T) {
	r := router.New()
	const resources = 400
	for i := range resources {
		base := fmt.Sprintf("/r%d", i)
		for _, rt := range []testRoute{
			{"GET", base, fmt.Sprintf("list%d", i)},
			{"POST", base, fmt.Sprintf("list%d", i)},
			{"GET", base + "/{id}", fmt.Sprintf("item%d", i)},
			{"GET", base + "/{id}/parts/{part}", fmt.Sprintf("part%d", i)},
			{"GET", base + "/{id}/files/{path...}", fmt.Sprintf("files%d", i)},
		} {
			if err := r.Handle(rt.method, rt.pattern, rt.name); err != nil {
				t.Fatalf("Handle(%q, %q) = %v", rt.method, rt.pattern, err)
			}
		}
	}
	for i := range resources {
		for j := range 10 {
			id := fmt.Sprint(i*7 + j)
			expectMatch(t, r, "GET", fmt.Sprintf("/r%d/%s", i, id), fmt.Sprintf("item%d", i),
				map[string]string{"id": id})
			expectMatch(t, r, "GET", fmt.Sprintf("/r%d/%s/parts/p%d", i, id, j), fmt.Sprintf("part%d", i),
				map[string]string{"id": id, "part": fmt.Sprintf("p%d", j)})
			expectMatch(t, r, "GET", fmt.Sprintf("/r%d/%s/files/a/%d", i, id, j), fmt.Sprintf("files%d", i),
				map[string]string{"id": id, "path": fmt.Sprintf("a/%d", j)})
		}
		_, err := r.Match("GET", fmt.Sprintf("/r%d/1/other", i))
		expectError(t, "an unknown sub-path", err, router.ErrNotFound)
	}
	_, err := r.Match("GET", fmt.Sprintf("/r%d", resources))
	expectError(t, "an unknown resource", err, router.ErrNotFound)
}
