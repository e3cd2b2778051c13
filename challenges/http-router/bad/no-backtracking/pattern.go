package router

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

type kind int

const (
	static kind = iota
	param
	catchAll
)

type segment struct {
	kind kind
	text string // the static text, or the parameter's name
}

type route struct {
	name     string
	pattern  string
	segments []segment
}

var (
	methodRE = regexp.MustCompile(`^[A-Z]+$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func parsePattern(pattern string) ([]segment, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Errorf("%w: pattern %q does not start with /", ErrInvalidRoute, pattern)
	}
	parts := strings.Split(pattern[1:], "/")
	segs := make([]segment, 0, len(parts))
	seen := map[string]bool{}
	for i, part := range parts {
		seg, err := parseSegment(part, i == len(parts)-1)
		if err == nil && seg.kind != static && seen[seg.text] {
			err = fmt.Errorf("parameter %q appears twice", seg.text)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: pattern %q: %v", ErrInvalidRoute, pattern, err)
		}
		if seg.kind != static {
			seen[seg.text] = true
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

func parseSegment(part string, last bool) (segment, error) {
	switch {
	case part == "" && !last:
		return segment{}, errors.New("empty segment")
	case !strings.ContainsAny(part, "{}"):
		return segment{kind: static, text: part}, nil
	case !strings.HasPrefix(part, "{") || !strings.HasSuffix(part, "}"):
		return segment{}, fmt.Errorf("segment %q mixes text and a parameter", part)
	}
	name, k := part[1:len(part)-1], param
	if rest, ok := strings.CutSuffix(name, "..."); ok {
		if !last {
			return segment{}, fmt.Errorf("catch-all %q is not the last segment", part)
		}
		name, k = rest, catchAll
	}
	if !nameRE.MatchString(name) {
		return segment{}, fmt.Errorf("bad parameter name %q", name)
	}
	return segment{kind: k, text: name}, nil
}

// splitPath returns the path's segments, each percent-decoded.
func splitPath(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("%w: %q does not start with /", ErrBadPath, path)
	}
	segs := strings.Split(path[1:], "/")
	for i, s := range segs {
		decoded, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBadPath, path, err)
		}
		segs[i] = decoded
	}
	return segs, nil
}

// build returns the segment's text in a path, its parameter filled in and escaped.
func (s segment) build(params map[string]string) (string, error) {
	value, given := params[s.text]
	switch {
	case s.kind == static:
		return url.PathEscape(s.text), nil
	case !given || (s.kind == param && value == ""):
		return "", fmt.Errorf("%w: %q", ErrMissingParam, s.text)
	case s.kind == param:
		return url.PathEscape(value), nil
	}
	parts := strings.Split(value, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/"), nil
}
