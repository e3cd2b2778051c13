"""Go: go test (each subtest its own test id), gofmt + go vet, exported identifiers."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from grader.languages.base import DocRule, Results
from grader.languages.driver import DriverLanguage, TamperPattern

if TYPE_CHECKING:
    from runners.base import RunResult


class Go(DriverLanguage):
    name: ClassVar[str] = "go"
    title: ClassVar[str] = "Go"
    versions: ClassVar[str] = "Go 1.26 (GOPATH mode: a go.mod's go line never stops a build)"
    image: ClassVar[str] = "go"
    pygments_lexer: ClassVar[str] = "go"
    source_suffixes: ClassVar[tuple[str, ...]] = (".go",)
    test_patterns: ClassVar[tuple[str, ...]] = ("*_test.go",)
    framework: ClassVar[str] = "go test -json (subtests are their own tests)"
    linter: ClassVar[str] = "gofmt + go vet"
    doc_rule: ClassVar[str] = "a // comment right above each exported function, method and type"
    libraries: ClassVar[tuple[str, ...]] = (
        "the standard library (net/http, database/sql...)",
        "github.com/lib/pq",
        "github.com/go-sql-driver/mysql",
        "github.com/gorilla/mux",
        "github.com/go-chi/chi",
        "github.com/stretchr/testify",
        "github.com/google/go-cmp",
    )

    service_libraries: ClassVar[tuple[str, ...]] = (
        "net/http (Go 1.22+ routing patterns), database/sql",
        "github.com/go-chi/chi/v5 (as github.com/go-chi/chi)",
        "github.com/gorilla/mux",
        "github.com/lib/pq (PostgreSQL)",
        "github.com/go-sql-driver/mysql (MySQL/MariaDB)",
        "github.com/gomodule/redigo/redis (Redis)",
    )
    # GOPATH mode (Debian's libraries): the submission is laid out under its go.mod's
    # module path, and the image's warm build cache is read through a tree of links.
    service_build: ClassVar[str] = (
        "set -e; "
        "mod=$(sed -n 's/^module[[:space:]]*//p' go.mod 2>/dev/null | head -n 1 "
        "| tr -d '\"[:space:]'); "
        'case "$mod" in ""|*..*|/*) mod=app;; esac; '
        'mkdir -p "/tmp/gopath/src/$mod"; cp -R . "/tmp/gopath/src/$mod/"; '
        'cd "/tmp/gopath/src/$mod"; '
        "if [ -d /opt/grader/go-cache ] && [ ! -d /tmp/gocache ]; then "
        "cp -rs /opt/grader/go-cache /tmp/gocache; fi; "
        "go build -o /tmp/grader-service ."
    )
    service_start: ClassVar[str] = "exec /tmp/grader-service"
    service_env: ClassVar[dict[str, str]] = {
        "PATH": "/usr/lib/go-1.26/bin:/usr/local/bin:/usr/bin:/bin",
        "GOPATH": "/tmp/gopath:/usr/share/gocode",
        "GOCACHE": "/tmp/gocache",
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTELEMETRY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
        # GOPATH mode takes go 1.20's defaults, which keep the old ServeMux: patterns
        # with methods and wildcards ("GET /items/{id}", Go 1.22) would never match.
        "GODEBUG": "httpmuxgo121=0",
    }
    markers: ClassVar[tuple[str, ...]] = ("go.mod",)
    suite_in_id: ClassVar[bool] = False
    docs: ClassVar[DocRule] = DocRule(
        items=(
            ("function", r"^func\s+(?:\([^)]*\)\s*)?(?P<name>[A-Z]\w*)"),
            ("class", r"^type\s+(?P<name>[A-Z]\w*)"),
        ),
        comment="line",
        prefix="//",
        skip=r"^\s*//go:",
    )
    tamper_patterns: ClassVar[tuple[TamperPattern, ...]] = (
        TamperPattern(r"syscall\.Exit|unix\.Exit", "exits the process past the test framework"),
        TamperPattern(r"\\x16|\\026|\\u0016", "writes the test2json framing byte (0x16)"),
        TamperPattern(r"go:linkname", "links to unexported runtime or testing internals"),
        TamperPattern(r'"unsafe"', "imports unsafe"),
        TamperPattern(r"/proc/self|/dev/fd", "reads its own process's files"),
        TamperPattern(r"os\.NewFile\(\s*[34]\b", "opens the harness's file descriptors"),
        TamperPattern(r"---\s*(PASS|FAIL)|===\s*RUN", "prints test-runner output"),
        TamperPattern(r'"testing"', "solution code imports the testing package"),
        TamperPattern(
            r"(?:rune|byte)\(\s*(?:22|0x16|0o?26)\s*\)", "makes the test2json framing byte (0x16)"
        ),
        TamperPattern(r"/grader\b", "names the sandbox's /grader folder"),
    )
    scaffold_entrypoint: ClassVar[str] = "wordcount.go"
    scaffold_weighted_test: ClassVar[str] = "tests/hidden/wordcount_hidden_test.go::TestLargeInput"

    def read_results(self, result: RunResult, token: str, test_files: list[str]) -> Results:
        res = super().read_results(result, token, test_files)
        if res.tampered:
            # Go's outcomes come from the test binary's own output, which candidate code
            # can write to: a stream with evidence of forging is not scored at all.
            res.cases = {}
        return res

    def scaffold(self, title: str) -> dict[str, str]:
        return dict(_SCAFFOLD)


_SCAFFOLD = {
    "README.md": """# {title}

Write `WordCount(text string) map[string]int` in package `wordcount` (file
`wordcount.go`): it returns how many times each word occurs in `text`. Words are
separated by white space and compared case-insensitively (keys are lower-case). An
empty text gives an empty (not nil) map.

```go
WordCount("the cat and The hat") // map[and:1 cat:1 hat:1 the:2]
```
""",
    "starter/go.mod": "module wordcount\n\ngo 1.26\n",
    "starter/wordcount.go": """// Package wordcount counts words.
package wordcount

// WordCount returns how many times each word occurs in text, case-insensitively.
func WordCount(text string) map[string]int {
	return nil
}
""",
    "solution/go.mod": "module wordcount\n\ngo 1.26\n",
    "solution/wordcount.go": """// Package wordcount counts words.
package wordcount

import "strings"

// WordCount returns how many times each word occurs in text, case-insensitively.
func WordCount(text string) map[string]int {
	counts := map[string]int{}
	for _, word := range strings.Fields(text) {
		counts[strings.ToLower(word)]++
	}
	return counts
}
""",
    "tests/public/wordcount_test.go": """package wordcount

import (
	"reflect"
	"testing"
)

func TestCountsWords(t *testing.T) {
	got := WordCount("a b a")
	want := map[string]int{"a": 2, "b": 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WordCount(%q) = %v, want %v", "a b a", got, want)
	}
}
""",
    "tests/hidden/wordcount_hidden_test.go": """package wordcount

import (
	"reflect"
	"strings"
	"testing"
)

func TestWordCountCases(t *testing.T) {
	cases := []struct {
		name string
		text string
		want map[string]int
	}{
		{"case_insensitive", "Go go GO", map[string]int{"go": 3}},
		{"any_whitespace", "a\\tb\\n a", map[string]int{"a": 2, "b": 1}},
		{"empty", "", map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := WordCount(c.text); !reflect.DeepEqual(got, c.want) {
				t.Errorf("WordCount(%q) = %v, want %v", c.text, got, c.want)
			}
		})
	}
}

func TestLargeInput(t *testing.T) {
	got := WordCount(strings.Repeat("x ", 100000))
	if len(got) != 1 || got["x"] != 100000 {
		t.Fatalf("got %d distinct words, x=%d", len(got), got["x"])
	}
}
""",
}
