"""Ruby: Minitest and RSpec, RuboCop, a comment above each public method and class."""

from __future__ import annotations

from typing import ClassVar

from grader.languages.base import DocRule
from grader.languages.driver import DriverLanguage, TamperPattern


class Ruby(DriverLanguage):
    name: ClassVar[str] = "ruby"
    title: ClassVar[str] = "Ruby"
    versions: ClassVar[str] = "Ruby 3.3, Minitest 5.25, RSpec 3.13"
    image: ClassVar[str] = "ruby"
    pygments_lexer: ClassVar[str] = "ruby"
    source_suffixes: ClassVar[tuple[str, ...]] = (".rb",)
    test_patterns: ClassVar[tuple[str, ...]] = ("*_test.rb", "test_*.rb", "*_spec.rb")
    config_names: ClassVar[frozenset[str]] = frozenset(
        {".rspec", ".rspec-local", ".rubocop.yml", ".rubocop_todo.yml"}
    )
    framework: ClassVar[str] = "Minitest (*_test.rb) and RSpec (*_spec.rb)"
    linter: ClassVar[str] = "RuboCop (defaults; documentation and metrics left to the scores)"
    doc_rule: ClassVar[str] = "a # comment above each public method, class and module"
    libraries: ClassVar[tuple[str, ...]] = ("the standard library (webrick, json, set...)",)

    service_libraries: ClassVar[tuple[str, ...]] = (
        "Sinatra 4.1 (Rack 3, rackup, WEBrick)",
        "pg 1.5 (PostgreSQL)",
        "mysql2 0.5 (MySQL/MariaDB)",
        "redis 5.3",
    )
    service_start: ClassVar[str] = (
        'if [ -f config.ru ]; then exec rackup -o 0.0.0.0 -p "$PORT" config.ru; fi; '
        'for f in app.rb server.rb main.rb; do if [ -f "$f" ]; then exec ruby "$f"; fi; done; '
        'echo "grader: no config.ru, app.rb, server.rb or main.rb to start" >&2; exit 2'
    )
    # Rack's production environment: rackup's development one logs every request
    # (CommonLogger) and checks each with Rack::Lint, which fills the service's log
    # (bounded by the challenge's output limit) and slows every answer.
    service_env: ClassVar[dict[str, str]] = {"RACK_ENV": "production", "APP_ENV": "production"}
    markers: ClassVar[tuple[str, ...]] = ("Gemfile", "config.ru")
    docs: ClassVar[DocRule] = DocRule(
        items=(
            ("class", r"^\s*(?:class|module)\s+(?P<name>[A-Z][\w:]*)"),
            ("function", r"^\s*def\s+(?:self\.)?(?P<name>[\w?!=\[\]+\-*/<>]+)"),
        ),
        comment="line",
        prefix="#",
        skip=r"^\s*#\s*(frozen_string_literal|typed):",
        private=r"^\s*(private|protected)\s*$",
    )
    tamper_patterns: ClassVar[tuple[TamperPattern, ...]] = (
        TamperPattern(r"\bexit!|\babort\b|Process\.kill|Process\.exit", "ends the test process"),
        TamperPattern(r"\bat_exit\b", "registers an at_exit hook"),
        TamperPattern(r"ObjectSpace", "walks every object of the process"),
        TamperPattern(r"Grader\w*", "names the grader's harness"),
        TamperPattern(r"IO\.for_fd|/dev/fd|/proc/self", "opens the harness's pipes"),
        TamperPattern(r"['\"`]/grader(/|['\"`])", "names the sandbox's grader folder"),
        TamperPattern(r"\b(Minitest|RSpec)\b", "names the test framework"),
        TamperPattern(r"\bFiddle\b|\bsyscall\b", "reaches past the language"),
    )
    scaffold_entrypoint: ClassVar[str] = "word_count.rb"
    scaffold_weighted_test: ClassVar[str] = (
        "tests/hidden/word_count_spec.rb::WordCount::counts a large input"
    )

    def scaffold(self, title: str) -> dict[str, str]:
        return dict(_SCAFFOLD)


_SCAFFOLD = {
    "README.md": """# {title}

Write `word_count.rb` with the module `WordCount` and its method
`WordCount.count(text)`: a hash of how many times each word occurs in `text`. Words
are separated by white space and compared case-insensitively (keys are lower-case).
A `text` that is not a `String` raises `TypeError`.

```ruby
WordCount.count('the cat and The hat') # => {"the"=>2, "cat"=>1, "and"=>1, "hat"=>1}
```
""",
    "starter/word_count.rb": """# frozen_string_literal: true

# Counts words.
module WordCount
  # How many times each word occurs in +text+, case-insensitively.
  def self.count(_text)
    {}
  end
end
""",
    "solution/word_count.rb": """# frozen_string_literal: true

# Counts words.
module WordCount
  # How many times each word occurs in +text+, case-insensitively.
  def self.count(text)
    raise TypeError, 'text must be a String' unless text.is_a?(String)

    text.split.each_with_object(Hash.new(0)) { |word, counts| counts[word.downcase] += 1 }
  end
end
""",
    "tests/public/word_count_test.rb": """require 'minitest/autorun'
require_relative 'word_count'

class WordCountTest < Minitest::Test
  def test_counts_words
    assert_equal({ 'a' => 2, 'b' => 1 }, WordCount.count('a b a'))
  end

  def test_empty_text_has_no_words
    assert_equal({}, WordCount.count(''))
  end
end
""",
    "tests/hidden/word_count_spec.rb": """require_relative 'word_count'

RSpec.describe WordCount do
  it 'ignores case' do
    expect(described_class.count('Go go GO')).to eq('go' => 3)
  end

  it 'splits on any white space' do
    expect(described_class.count("a\\tb\\n a")).to eq('a' => 2, 'b' => 1)
  end

  it 'rejects a text that is not a string' do
    expect { described_class.count(42) }.to raise_error(TypeError)
  end

  it 'counts a large input' do
    expect(described_class.count('x ' * 100_000)).to eq('x' => 100_000)
  end
end
""",
}
