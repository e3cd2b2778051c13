"""A generated corpus for similarity: independent solutions of one problem, in six languages,
and disguised copies of each (identifiers renamed, functions reordered, comments rewritten,
dead code added).

The problem everywhere: ``top_words(text, n)``, the ``n`` most frequent lowercase words of
``text`` as (word, count) pairs, by count descending then word ascending. The starter hands
every candidate a ``split_words`` helper (kept verbatim by everyone); the reference solution
counts in a map and sorts. Each *family* is one independently written solution (its own
algorithm); a family's members are the original and its disguised copies. Pairs inside a
family are copies; pairs across families are independent work.

Units are top-level functions (methods, for Java); ``{c}`` on a line of its own marks a
place where a comment may stand, or (in a copy) a dead statement.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pygments.lexers import get_lexer_by_name
from pygments.token import Name


@dataclass
class Lang:
    name: str
    filename: str
    comment: str
    header: str
    footer: str
    starter_units: list[str]
    reference_units: list[str]
    families: list[list[str]]
    dead_statements: list[str]
    keep: set[str] = field(default_factory=set)


SENTENCES_A = [
    "count every word once",
    "walk the words in order",
    "break ties by the word itself",
    "the most frequent words come first",
    "nothing to do for an empty text",
    "keep only the first n entries",
    "build the table of counts",
    "sort by count, then word",
]
SENTENCES_B = [
    "TODO: tidy this up later",
    "helper written for the exercise",
    "edge case: n is zero",
    "this is the main loop",
    "stable ordering matters here",
    "quick and simple approach",
    "result is a list of pairs",
    "checked against the examples",
    "performance is fine",
]

# --- Python --------------------------------------------------------------------------------

PY_SPLIT = '''def split_words(text):
    """Return the lowercase words of text (provided: keep as is)."""
    return WORD.findall(text.lower())'''

PYTHON = Lang(
    name="python",
    filename="words.py",
    comment="#",
    header='"""Word counts."""\n\nimport heapq\nimport re\n\nWORD = re.compile(r"[a-z\']+")\n',
    footer="",
    starter_units=[
        PY_SPLIT,
        '''def top_words(text, n):
    """Return the n most frequent words as (word, count) pairs."""
    raise NotImplementedError''',
    ],
    reference_units=[
        PY_SPLIT,
        '''def top_words(text, n):
    """Return the n most frequent words as (word, count) pairs."""
    counts = {}
    for word in split_words(text):
        counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]''',
    ],
    families=[
        [
            PY_SPLIT,
            """def count_words(words):
    tally = {}
    {c}
    for w in words:
        if w in tally:
            tally[w] += 1
        else:
            tally[w] = 1
    return tally""",
            """def order_key(pair):
    word, count = pair
    {c}
    return (-count, word)""",
            """def top_words(text, n):
    if n <= 0:
        return []
    {c}
    tally = count_words(split_words(text))
    pairs = list(tally.items())
    pairs.sort(key=order_key)
    return pairs[:n]""",
        ],
        [
            PY_SPLIT,
            """def top_words(text, n):
    heap = []
    seen = {}
    {c}
    for token in split_words(text):
        seen[token] = seen.get(token, 0) + 1
    for token, freq in seen.items():
        heap.append((-freq, token))
    heapq.heapify(heap)
    out = []
    {c}
    while heap and len(out) < n:
        neg, token = heapq.heappop(heap)
        out.append((token, -neg))
    return out""",
        ],
        [
            PY_SPLIT,
            """def bucketize(counts):
    most = max(counts.values(), default=0)
    buckets = [[] for _ in range(most + 1)]
    {c}
    for word, c in counts.items():
        buckets[c].append(word)
    return buckets""",
            """def top_words(text, n):
    counts = {}
    for word in split_words(text):
        counts[word] = counts.get(word, 0) + 1
    result = []
    {c}
    buckets = bucketize(counts)
    for c in range(len(buckets) - 1, 0, -1):
        for word in sorted(buckets[c]):
            if len(result) == n:
                return result
            result.append((word, c))
    return result""",
        ],
        [
            PY_SPLIT,
            '''def runs(sorted_words):
    """Collapse equal neighbours into (word, run length)."""
    out = []
    {c}
    for word in sorted_words:
        if out and out[-1][0] == word:
            out[-1] = (word, out[-1][1] + 1)
        else:
            out.append((word, 1))
    return out''',
            """def top_words(text, n):
    words = sorted(split_words(text))
    {c}
    grouped = runs(words)
    grouped.sort(key=lambda r: r[1], reverse=True)
    return grouped[:max(n, 0)]""",
        ],
        [
            PY_SPLIT,
            '''class WordCounter:
    """Counts words as they are added."""

    def __init__(self):
        self.counts = {}
        self.total = 0

    def add(self, word):
        {c}
        self.counts[word] = self.counts.get(word, 0) + 1
        self.total += 1

    def most_common(self, limit):
        items = [(count, word) for word, count in self.counts.items()]
        items.sort(key=lambda x: (-x[0], x[1]))
        return [(word, count) for count, word in items[:limit]]''',
            """def top_words(text, n):
    counter = WordCounter()
    {c}
    for word in split_words(text):
        counter.add(word)
    return counter.most_common(n)""",
        ],
        [
            PY_SPLIT,
            """def top_words(text, n):
    words = split_words(text)
    unique = set(words)
    {c}
    scored = [(words.count(word), word) for word in unique]
    best = []
    while scored and len(best) < n:
        top = min(scored, key=lambda s: (-s[0], s[1]))
        scored.remove(top)
        {c}
        best.append((top[1], top[0]))
    return best""",
        ],
    ],
    dead_statements=["_scratch = 0", "_unused = []", "if False:\n    pass"],
    keep={
        "split_words",
        "top_words",
        "WORD",
        "re",
        "heapq",
        "findall",
        "lower",
        "get",
        "items",
        "sort",
        "append",
        "heapify",
        "heappop",
        "values",
        "compile",
        "count",
        "remove",
        "strip",
        "__init__",
        "key",
        "reverse",
        "default",
    },
)

# --- Go ------------------------------------------------------------------------------------

GO_SPLIT = """// SplitWords returns the lowercase words of text (provided: keep as is).
func SplitWords(text string) []string {
	return wordRe.FindAllString(strings.ToLower(text), -1)
}"""

GO = Lang(
    name="go",
    filename="words.go",
    comment="//",
    header=(
        'package words\n\nimport (\n\t"regexp"\n\t"sort"\n\t"strings"\n)\n\n'
        "var wordRe = regexp.MustCompile(`[a-z']+`)\n\n"
        "// Pair is a word and its count.\n"
        "type Pair struct {\n\tWord  string\n\tCount int\n}\n"
    ),
    footer="",
    starter_units=[
        GO_SPLIT,
        """// TopWords returns the n most frequent words.
func TopWords(text string, n int) []Pair {
	return nil
}""",
    ],
    reference_units=[
        GO_SPLIT,
        """// TopWords returns the n most frequent words.
func TopWords(text string, n int) []Pair {
	counts := map[string]int{}
	for _, w := range SplitWords(text) {
		counts[w]++
	}
	pairs := make([]Pair, 0, len(counts))
	for w, c := range counts {
		pairs = append(pairs, Pair{w, c})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].Count != pairs[j].Count {
			return pairs[i].Count > pairs[j].Count
		}
		return pairs[i].Word < pairs[j].Word
	})
	if n < len(pairs) {
		pairs = pairs[:n]
	}
	return pairs
}""",
    ],
    families=[
        [
            GO_SPLIT,
            """func tally(words []string) map[string]int {
	m := make(map[string]int)
	{c}
	for i := 0; i < len(words); i++ {
		m[words[i]] = m[words[i]] + 1
	}
	return m
}""",
            """func less(a, b Pair) bool {
	{c}
	if a.Count == b.Count {
		return a.Word < b.Word
	}
	return a.Count > b.Count
}""",
            """func TopWords(text string, n int) []Pair {
	m := tally(SplitWords(text))
	var out []Pair
	{c}
	for k, v := range m {
		out = append(out, Pair{Word: k, Count: v})
	}
	sort.SliceStable(out, func(x, y int) bool { return less(out[x], out[y]) })
	if len(out) > n {
		return out[:n]
	}
	return out
}""",
        ],
        [
            GO_SPLIT,
            """func TopWords(text string, n int) []Pair {
	words := SplitWords(text)
	sort.Strings(words)
	var runs []Pair
	{c}
	for _, w := range words {
		if len(runs) > 0 && runs[len(runs)-1].Word == w {
			runs[len(runs)-1].Count++
		} else {
			runs = append(runs, Pair{w, 1})
		}
	}
	{c}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Count > runs[j].Count })
	if n < 0 {
		n = 0
	}
	if n > len(runs) {
		n = len(runs)
	}
	return runs[:n]
}""",
        ],
        [
            GO_SPLIT,
            """func buckets(counts map[string]int) [][]string {
	most := 0
	for _, c := range counts {
		if c > most {
			most = c
		}
	}
	{c}
	b := make([][]string, most+1)
	for w, c := range counts {
		b[c] = append(b[c], w)
	}
	return b
}""",
            """func TopWords(text string, n int) []Pair {
	counts := map[string]int{}
	for _, w := range SplitWords(text) {
		counts[w] += 1
	}
	result := []Pair{}
	b := buckets(counts)
	{c}
	for c := len(b) - 1; c > 0 && len(result) < n; c-- {
		sort.Strings(b[c])
		for _, w := range b[c] {
			if len(result) == n {
				break
			}
			result = append(result, Pair{w, c})
		}
	}
	return result
}""",
        ],
        [
            GO_SPLIT,
            """type counter struct {
	seen  map[string]int
	order []string
}""",
            """func (c *counter) add(w string) {
	if _, ok := c.seen[w]; !ok {
		c.order = append(c.order, w)
	}
	{c}
	c.seen[w]++
}""",
            """func TopWords(text string, n int) []Pair {
	c := &counter{seen: map[string]int{}}
	for _, w := range SplitWords(text) {
		c.add(w)
	}
	best := make([]Pair, 0, n)
	{c}
	for len(best) < n && len(c.order) > 0 {
		pick := 0
		for i, w := range c.order {
			p := c.order[pick]
			if c.seen[w] > c.seen[p] || (c.seen[w] == c.seen[p] && w < p) {
				pick = i
			}
		}
		w := c.order[pick]
		best = append(best, Pair{w, c.seen[w]})
		c.order = append(c.order[:pick], c.order[pick+1:]...)
	}
	return best
}""",
        ],
    ],
    dead_statements=["_ = 0", "var scratch []int\n\t_ = scratch"],
    keep={
        "SplitWords",
        "TopWords",
        "Pair",
        "Word",
        "Count",
        "wordRe",
        "strings",
        "sort",
        "regexp",
        "FindAllString",
        "ToLower",
        "Slice",
        "SliceStable",
        "Strings",
        "MustCompile",
    },
)

# --- Java ----------------------------------------------------------------------------------

JAVA_SPLIT = """    /** Returns the lowercase words of text (provided: keep as is). */
    public static List<String> splitWords(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text.toLowerCase());
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }"""

JAVA = Lang(
    name="java",
    filename="Words.java",
    comment="//",
    header=(
        "import java.util.*;\nimport java.util.regex.*;\n\n"
        "public class Words {\n"
        '    static final Pattern WORD = Pattern.compile("[a-z\']+");\n\n'
        "    public record Pair(String word, int count) {}\n"
    ),
    footer="}\n",
    starter_units=[
        JAVA_SPLIT,
        """    public static List<Pair> topWords(String text, int n) {
        throw new UnsupportedOperationException();
    }""",
    ],
    reference_units=[
        JAVA_SPLIT,
        """    public static List<Pair> topWords(String text, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (String w : splitWords(text)) {
            counts.merge(w, 1, Integer::sum);
        }
        List<Pair> pairs = new ArrayList<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            pairs.add(new Pair(e.getKey(), e.getValue()));
        }
        pairs.sort(Comparator.comparing((Pair p) -> -p.count()).thenComparing(Pair::word));
        return pairs.subList(0, Math.min(n, pairs.size()));
    }""",
    ],
    families=[
        [
            JAVA_SPLIT,
            """    private static Map<String, Integer> tally(List<String> words) {
        Map<String, Integer> m = new TreeMap<>();
        {c}
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            Integer old = m.get(w);
            m.put(w, old == null ? 1 : old + 1);
        }
        return m;
    }""",
            """    public static List<Pair> topWords(String text, int n) {
        Map<String, Integer> m = tally(splitWords(text));
        List<Pair> out = new ArrayList<>();
        {c}
        m.forEach((k, v) -> out.add(new Pair(k, v)));
        out.sort((a, b) -> b.count() != a.count()
                ? b.count() - a.count() : a.word().compareTo(b.word()));
        while (out.size() > n) {
            out.remove(out.size() - 1);
        }
        return out;
    }""",
        ],
        [
            JAVA_SPLIT,
            """    public static List<Pair> topWords(String text, int n) {
        List<String> words = splitWords(text);
        Collections.sort(words);
        List<Pair> runs = new ArrayList<>();
        {c}
        int i = 0;
        while (i < words.size()) {
            int j = i;
            while (j < words.size() && words.get(j).equals(words.get(i))) {
                j++;
            }
            runs.add(new Pair(words.get(i), j - i));
            i = j;
        }
        {c}
        runs.sort(Comparator.comparingInt(Pair::count).reversed());
        return new ArrayList<>(runs.subList(0, Math.max(0, Math.min(n, runs.size()))));
    }""",
        ],
        [
            JAVA_SPLIT,
            """    private static PriorityQueue<Pair> heapOf(Map<String, Integer> counts) {
        PriorityQueue<Pair> heap = new PriorityQueue<>((a, b) -> {
            if (a.count() != b.count()) {
                return Integer.compare(b.count(), a.count());
            }
            return a.word().compareTo(b.word());
        });
        {c}
        for (String key : counts.keySet()) {
            heap.offer(new Pair(key, counts.get(key)));
        }
        return heap;
    }""",
            """    public static List<Pair> topWords(String text, int n) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String w : splitWords(text)) {
            counts.put(w, counts.getOrDefault(w, 0) + 1);
        }
        PriorityQueue<Pair> heap = heapOf(counts);
        List<Pair> result = new ArrayList<>();
        {c}
        while (!heap.isEmpty() && result.size() < n) {
            result.add(heap.poll());
        }
        return result;
    }""",
        ],
        [
            JAVA_SPLIT,
            """    static final class Counter {
        private final Map<String, int[]> cells = new HashMap<>();

        void add(String word) {
            {c}
            cells.computeIfAbsent(word, k -> new int[1])[0]++;
        }

        List<Pair> best(int limit) {
            List<String> keys = new ArrayList<>(cells.keySet());
            keys.sort((x, y) -> {
                int d = cells.get(y)[0] - cells.get(x)[0];
                return d != 0 ? d : x.compareTo(y);
            });
            List<Pair> out = new ArrayList<>();
            for (String k : keys.subList(0, Math.min(limit, keys.size()))) {
                out.add(new Pair(k, cells.get(k)[0]));
            }
            return out;
        }
    }""",
            """    public static List<Pair> topWords(String text, int n) {
        Counter counter = new Counter();
        {c}
        splitWords(text).forEach(counter::add);
        return counter.best(n);
    }""",
        ],
    ],
    dead_statements=["int scratch = 0;", "List<Integer> unused = new ArrayList<>();"],
    keep={
        "List",
        "String",
        "ArrayList",
        "Matcher",
        "Pattern",
        "Map",
        "HashMap",
        "TreeMap",
        "Integer",
        "Pair",
        "splitWords",
        "topWords",
        "WORD",
        "Comparator",
        "Math",
        "Collections",
        "PriorityQueue",
        "LinkedHashMap",
        "System",
        "Words",
    },
)

# --- JavaScript ----------------------------------------------------------------------------

JS_SPLIT = """/** Returns the lowercase words of text (provided: keep as is). */
function splitWords(text) {
  return text.toLowerCase().match(/[a-z']+/g) || [];
}"""

JAVASCRIPT = Lang(
    name="javascript",
    filename="words.js",
    comment="//",
    header='"use strict";\n',
    footer="\nmodule.exports = { splitWords, topWords };\n",
    starter_units=[
        JS_SPLIT,
        """function topWords(text, n) {
  throw new Error("not implemented");
}""",
    ],
    reference_units=[
        JS_SPLIT,
        """function topWords(text, n) {
  const counts = new Map();
  for (const w of splitWords(text)) {
    counts.set(w, (counts.get(w) || 0) + 1);
  }
  const pairs = [...counts.entries()];
  pairs.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.slice(0, n);
}""",
    ],
    families=[
        [
            JS_SPLIT,
            """function tally(words) {
  const table = {};
  {c}
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (Object.prototype.hasOwnProperty.call(table, w)) {
      table[w] += 1;
    } else {
      table[w] = 1;
    }
  }
  return table;
}""",
            """function byCountThenWord(x, y) {
  {c}
  if (x[1] !== y[1]) {
    return y[1] - x[1];
  }
  return x[0].localeCompare(y[0]);
}""",
            """function topWords(text, n) {
  if (n <= 0) {
    return [];
  }
  const table = tally(splitWords(text));
  {c}
  return Object.keys(table).map((k) => [k, table[k]]).sort(byCountThenWord).slice(0, n);
}""",
        ],
        [
            JS_SPLIT,
            """function topWords(text, n) {
  const words = splitWords(text).sort();
  const runs = [];
  {c}
  for (const w of words) {
    const last = runs[runs.length - 1];
    if (last && last[0] === w) {
      last[1]++;
    } else {
      runs.push([w, 1]);
    }
  }
  {c}
  runs.sort((p, q) => q[1] - p[1]);
  return runs.slice(0, Math.max(0, n));
}""",
        ],
        [
            JS_SPLIT,
            """function buckets(counts) {
  let most = 0;
  counts.forEach((c) => { most = Math.max(most, c); });
  const out = Array.from({ length: most + 1 }, () => []);
  {c}
  counts.forEach((c, w) => out[c].push(w));
  return out;
}""",
            """function topWords(text, n) {
  const counts = new Map();
  splitWords(text).forEach((w) => counts.set(w, (counts.get(w) ?? 0) + 1));
  const result = [];
  const b = buckets(counts);
  {c}
  for (let c = b.length - 1; c > 0; c -= 1) {
    for (const w of b[c].sort()) {
      if (result.length === n) {
        return result;
      }
      result.push([w, c]);
    }
  }
  return result;
}""",
        ],
        [
            JS_SPLIT,
            """class Counter {
  constructor() {
    this.seen = new Map();
  }

  add(word) {
    {c}
    this.seen.set(word, 1 + (this.seen.get(word) || 0));
    return this;
  }

  best(limit) {
    const entries = Array.from(this.seen, ([word, count]) => ({ word, count }));
    entries.sort((a, b) => (a.count === b.count ? (a.word > b.word ? 1 : -1) : b.count - a.count));
    return entries.slice(0, limit).map((e) => [e.word, e.count]);
  }
}""",
            """function topWords(text, n) {
  const counter = new Counter();
  {c}
  splitWords(text).forEach((w) => counter.add(w));
  return counter.best(n);
}""",
        ],
    ],
    dead_statements=["let scratch = 0;", "const unused = [];"],
    keep={
        "splitWords",
        "topWords",
        "module",
        "exports",
        "Map",
        "Math",
        "Object",
        "Array",
        "console",
        "Error",
        "prototype",
        "hasOwnProperty",
        "call",
        "length",
        "push",
        "sort",
        "slice",
        "map",
        "keys",
        "set",
        "get",
        "forEach",
        "from",
        "max",
        "match",
        "toLowerCase",
        "entries",
        "localeCompare",
    },
)

# --- Ruby ----------------------------------------------------------------------------------

RB_SPLIT = """# Returns the lowercase words of text (provided: keep as is).
def split_words(text)
  text.downcase.scan(/[a-z']+/)
end"""

RUBY = Lang(
    name="ruby",
    filename="words.rb",
    comment="#",
    header="# frozen_string_literal: true\n",
    footer="",
    starter_units=[
        RB_SPLIT,
        """def top_words(text, n)
  raise NotImplementedError
end""",
    ],
    reference_units=[
        RB_SPLIT,
        """def top_words(text, n)
  counts = Hash.new(0)
  split_words(text).each { |w| counts[w] += 1 }
  counts.sort_by { |w, c| [-c, w] }.first(n)
end""",
    ],
    families=[
        [
            RB_SPLIT,
            """def tally_words(words)
  table = {}
  {c}
  words.each do |w|
    if table.key?(w)
      table[w] += 1
    else
      table[w] = 1
    end
  end
  table
end""",
            """def compare_pairs(a, b)
  {c}
  return b[1] <=> a[1] unless a[1] == b[1]
  a[0] <=> b[0]
end""",
            """def top_words(text, n)
  return [] if n <= 0
  table = tally_words(split_words(text))
  {c}
  pairs = table.to_a.sort { |a, b| compare_pairs(a, b) }
  pairs.take(n)
end""",
        ],
        [
            RB_SPLIT,
            """def top_words(text, n)
  words = split_words(text).sort
  runs = []
  {c}
  words.each do |w|
    if !runs.empty? && runs.last[0] == w
      runs.last[1] += 1
    else
      runs << [w, 1]
    end
  end
  {c}
  runs.sort_by.with_index { |(_, c), i| [-c, i] }.first([n, 0].max)
end""",
        ],
        [
            RB_SPLIT,
            """def buckets_of(counts)
  most = counts.values.max || 0
  out = Array.new(most + 1) { [] }
  {c}
  counts.each { |w, c| out[c] << w }
  out
end""",
            """def top_words(text, n)
  counts = Hash.new(0)
  split_words(text).each { |w| counts[w] += 1 }
  result = []
  {c}
  buckets_of(counts).each_with_index.reverse_each do |ws, c|
    ws.sort.each do |w|
      return result if result.size == n
      result << [w, c]
    end
  end
  result
end""",
        ],
        [
            RB_SPLIT,
            """class Counter
  def initialize
    @seen = {}
  end

  def add(word)
    {c}
    @seen[word] = (@seen[word] || 0) + 1
    self
  end

  def best(limit)
    @seen.to_a.min_by(limit) { |word, count| [-count, word] }
  end
end""",
            """def top_words(text, n)
  counter = Counter.new
  {c}
  split_words(text).each { |w| counter.add(w) }
  counter.best(n)
end""",
        ],
    ],
    dead_statements=["scratch = 0", "unused = []"],
    keep={
        "split_words",
        "top_words",
        "downcase",
        "scan",
        "Hash",
        "new",
        "each",
        "sort_by",
        "first",
        "to_a",
        "sort",
        "take",
        "key?",
        "empty?",
        "last",
        "with_index",
        "max",
        "values",
        "Array",
        "each_with_index",
        "reverse_each",
        "size",
        "min_by",
        "puts",
        "to_f",
        "initialize",
        "NotImplementedError",
        "Counter",
    },
)

# --- PHP -----------------------------------------------------------------------------------

PHP_SPLIT = """/** Returns the lowercase words of $text (provided: keep as is). */
function split_words(string $text): array
{
    preg_match_all("/[a-z']+/", strtolower($text), $m);
    return $m[0];
}"""

PHP = Lang(
    name="php",
    filename="words.php",
    comment="//",
    header="<?php\n\ndeclare(strict_types=1);\n",
    footer="",
    starter_units=[
        PHP_SPLIT,
        """function top_words(string $text, int $n): array
{
    throw new RuntimeException("not implemented");
}""",
    ],
    reference_units=[
        PHP_SPLIT,
        """function top_words(string $text, int $n): array
{
    $counts = array_count_values(split_words($text));
    $pairs = [];
    foreach ($counts as $w => $c) {
        $pairs[] = [(string) $w, $c];
    }
    usort($pairs, fn($a, $b) => [$b[1], $a[0]] <=> [$a[1], $b[0]]);
    return array_slice($pairs, 0, $n);
}""",
    ],
    families=[
        [
            PHP_SPLIT,
            """function tally(array $words): array
{
    $table = [];
    {c}
    for ($i = 0; $i < count($words); $i++) {
        $w = $words[$i];
        if (isset($table[$w])) {
            $table[$w] += 1;
        } else {
            $table[$w] = 1;
        }
    }
    return $table;
}""",
            """function by_count_then_word(array $x, array $y): int
{
    {c}
    if ($x[1] !== $y[1]) {
        return $y[1] - $x[1];
    }
    return strcmp($x[0], $y[0]);
}""",
            """function top_words(string $text, int $n): array
{
    if ($n <= 0) {
        return [];
    }
    $table = tally(split_words($text));
    $out = [];
    {c}
    foreach ($table as $k => $v) {
        $out[] = [(string) $k, $v];
    }
    usort($out, "by_count_then_word");
    return array_slice($out, 0, $n);
}""",
        ],
        [
            PHP_SPLIT,
            """function top_words(string $text, int $n): array
{
    $words = split_words($text);
    sort($words);
    $runs = [];
    {c}
    foreach ($words as $w) {
        $last = count($runs) - 1;
        if ($last >= 0 && $runs[$last][0] === $w) {
            $runs[$last][1]++;
        } else {
            $runs[] = [$w, 1];
        }
    }
    {c}
    usort($runs, function ($p, $q) {
        return $q[1] <=> $p[1];
    });
    return array_slice($runs, 0, max(0, $n));
}""",
        ],
        [
            PHP_SPLIT,
            """function buckets(array $counts): array
{
    $most = $counts ? max($counts) : 0;
    $out = array_fill(0, $most + 1, []);
    {c}
    foreach ($counts as $w => $c) {
        $out[$c][] = (string) $w;
    }
    return $out;
}""",
            """function top_words(string $text, int $n): array
{
    $counts = [];
    foreach (split_words($text) as $w) {
        $counts[$w] = ($counts[$w] ?? 0) + 1;
    }
    $result = [];
    $b = buckets($counts);
    {c}
    for ($c = count($b) - 1; $c > 0; $c--) {
        sort($b[$c]);
        foreach ($b[$c] as $w) {
            if (count($result) === $n) {
                return $result;
            }
            $result[] = [$w, $c];
        }
    }
    return $result;
}""",
        ],
        [
            PHP_SPLIT,
            """final class Counter
{
    private array $seen = [];

    public function add(string $word): self
    {
        {c}
        $this->seen[$word] = ($this->seen[$word] ?? 0) + 1;
        return $this;
    }

    public function best(int $limit): array
    {
        $keys = array_map("strval", array_keys($this->seen));
        usort($keys, fn($x, $y) => ($this->seen[$y] <=> $this->seen[$x]) ?: strcmp($x, $y));
        return array_map(fn($k) => [$k, $this->seen[$k]], array_slice($keys, 0, $limit));
    }
}""",
            """function top_words(string $text, int $n): array
{
    $counter = new Counter();
    {c}
    foreach (split_words($text) as $w) {
        $counter->add($w);
    }
    return $counter->best($n);
}""",
        ],
    ],
    dead_statements=["$scratch = 0;", "$unused = [];"],
    keep={
        "split_words",
        "top_words",
        "preg_match_all",
        "strtolower",
        "array_count_values",
        "usort",
        "array_slice",
        "count",
        "isset",
        "strcmp",
        "sort",
        "max",
        "array_fill",
        "array_map",
        "array_keys",
        "strval",
        "RuntimeException",
        "Counter",
        "$this",
        "$m",
        "$text",
        "$n",
    },
)

LANGUAGES: dict[str, Lang] = {lang.name: lang for lang in (PYTHON, GO, JAVA, JAVASCRIPT, RUBY, PHP)}


# Dead code a copier adds: a function of 3-5 statements drawn at random, so two unrelated
# copies do not share it. ``{v}`` is the function's variable, ``{n}`` a number.
DEAD_CODE: dict[str, tuple[str, list[str]]] = {
    "python": (
        "def {name}({v}):\n{body}\n    return {v}",
        [
            "    {v} = {v} + {n}",
            "    if {v} > {n}: {v} -= {n}",
            "    for _ in range({n}): {v} += 1",
            "    {v} = [{v}] * {n}",
            "    {v} = str({v}).strip()",
            "    {v} = len(str({v}))",
            "    while {v} > {n}: {v} //= 2",
            "    assert {v} is not None",
        ],
    ),
    "go": (
        "func {name}({v} int) int {\n{body}\n\treturn {v}\n}",
        [
            "\t{v} = {v} + {n}",
            "\tif {v} > {n} {\n\t\t{v} -= {n}\n\t}",
            "\tfor i := 0; i < {n}; i++ {\n\t\t{v}++\n\t}",
            "\t{v} = len(fmt.Sprint({v}))",
            "\tfor {v} > {n} {\n\t\t{v} /= 2\n\t}",
            "\t{v} *= {n}",
            "\t{v} = {v} % {n}",
            "\tswitch {v} {\n\tcase {n}:\n\t\t{v} = 0\n\t}",
        ],
    ),
    "java": (
        "    private static int {name}(int {v}) {\n{body}\n        return {v};\n    }",
        [
            "        {v} = {v} + {n};",
            "        if ({v} > {n}) {\n            {v} -= {n};\n        }",
            "        for (int i = 0; i < {n}; i++) {\n            {v}++;\n        }",
            "        {v} = String.valueOf({v}).length();",
            "        while ({v} > {n}) {\n            {v} /= 2;\n        }",
            "        {v} *= {n};",
            "        {v} = {v} % {n};",
            "        {v} = Math.max({v}, {n});",
        ],
    ),
    "javascript": (
        "function {name}({v}) {\n{body}\n  return {v};\n}",
        [
            "  {v} = {v} + {n};",
            "  if ({v} > {n}) {\n    {v} -= {n};\n  }",
            "  for (let i = 0; i < {n}; i++) {\n    {v}++;\n  }",
            "  {v} = String({v}).length;",
            "  while ({v} > {n}) {\n    {v} = Math.floor({v} / 2);\n  }",
            "  {v} *= {n};",
            "  {v} = {v} % {n};",
            "  {v} = Math.max({v}, {n});",
        ],
    ),
    "ruby": (
        "def {name}({v})\n{body}\n  {v}\nend",
        [
            "  {v} += {n}",
            "  {v} -= {n} if {v} > {n}",
            "  {n}.times { {v} += 1 }",
            "  {v} = {v}.to_s.length",
            "  {v} /= 2 while {v} > {n}",
            "  {v} *= {n}",
            "  {v} = {v} % {n}",
            "  {v} = [{v}, {n}].max",
        ],
    ),
    "php": (
        "function {name}(int {v}): int\n{\n{body}\n    return {v};\n}",
        [
            "    {v} = {v} + {n};",
            "    if ({v} > {n}) {\n        {v} -= {n};\n    }",
            "    for ($i = 0; $i < {n}; $i++) {\n        {v}++;\n    }",
            "    {v} = strlen((string) {v});",
            "    while ({v} > {n}) {\n        {v} = intdiv({v}, 2);\n    }",
            "    {v} *= {n};",
            "    {v} = {v} % {n};",
            "    {v} = max({v}, {n});",
        ],
    ),
}


def dead_unit(lang: Lang, rng: random.Random) -> str:
    wrapper, pool = DEAD_CODE[lang.name]
    var = ("$" if lang.name == "php" else "") + rng.choice(["x", "acc", "value", "tmp"])
    body = "\n".join(
        rng.choice(pool).replace("{v}", var).replace("{n}", str(rng.randint(2, 99)))
        for _ in range(rng.randint(3, 5))
    )
    name = rng.choice(["helper", "legacy", "unused", "check", "debug"]) + str(rng.randint(1, 999))
    return wrapper.replace("{name}", name).replace("{v}", var).replace("{body}", body)


# --- assembling and disguising -------------------------------------------------------------

_PLACEHOLDER = re.compile(r"^([ \t]*)\{c\}\n", re.MULTILINE)


def _fill(unit: str, fill: Callable[[str], str]) -> str:
    return _PLACEHOLDER.sub(lambda m: fill(m.group(1)), unit + "\n")[:-1]


def assemble(lang: Lang, units: list[str], *, fill: Callable[[str], str]) -> str:
    body = "\n\n".join(_fill(u, fill) for u in units)
    return f"{lang.header}\n{body}\n{lang.footer}"


def original(lang: Lang, units: list[str], rng: random.Random) -> str:
    """A family's original: some placeholders become comments, the rest vanish."""

    def fill(indent: str) -> str:
        if rng.random() < 0.6:
            return f"{indent}{lang.comment} {rng.choice(SENTENCES_A)}\n"
        return ""

    return assemble(lang, units, fill=fill)


def _rename(lang: Lang, text: str, rng: random.Random) -> str:
    """Every identifier not in ``lang.keep`` gets a fresh name, consistently."""
    lexer = get_lexer_by_name(
        lang.name if lang.name != "javascript" else "javascript", stripnl=False, ensurenl=False
    )
    mapping: dict[str, str] = {}
    out = []
    stems = ["val", "item", "acc", "tmp", "data", "res", "elem", "key", "obj", "buf"]
    for ttype, value in lexer.get_tokens(text):
        if (
            ttype in Name
            and ttype not in Name.Builtin
            and value not in lang.keep
            and (value.strip() and not value.startswith("$this"))
        ):
            if value not in mapping:
                sigil = value[0] if value[0] in "$@" else ""
                if value.startswith("@@"):
                    sigil = "@@"
                stem = rng.choice(stems)
                if value[len(sigil) :][:1].isupper():
                    stem = stem.capitalize()
                mapping[value] = f"{sigil}{stem}{len(mapping)}"
            out.append(mapping[value])
        else:
            out.append(value)
    return "".join(out)


def disguise(lang: Lang, units: list[str], rng: random.Random) -> str:
    """A disguised copy: functions reordered, dead code added, comments rewritten,
    identifiers renamed."""
    body_units = list(units)
    rng.shuffle(body_units)
    for _ in range(rng.randint(1, 2)):
        body_units.insert(rng.randint(0, len(body_units)), dead_unit(lang, rng))

    def fill(indent: str) -> str:
        roll = rng.random()
        if roll < 0.45:
            stmt = rng.choice(lang.dead_statements).replace("\n", "\n" + indent)
            return f"{indent}{stmt}\n"
        if roll < 0.8:
            return f"{indent}{lang.comment} {rng.choice(SENTENCES_B)}\n"
        return ""

    text = assemble(lang, body_units, fill=fill)
    return _rename(lang, text, rng)


@dataclass(frozen=True)
class Sample:
    name: str
    family: int
    text: str


def corpus(lang: Lang, *, copies: int = 2, seed: int = 1) -> list[Sample]:
    """Every family's original and ``copies`` disguised copies of it."""
    rng = random.Random(f"{lang.name}-{seed}")
    out = []
    for f, units in enumerate(lang.families):
        out.append(Sample(f"{lang.name}-f{f}-orig", f, original(lang, units, rng)))
        for c in range(copies):
            out.append(Sample(f"{lang.name}-f{f}-copy{c}", f, disguise(lang, units, rng)))
    return out


def starter_files(lang: Lang) -> dict[str, str]:
    return {f"starter/{lang.filename}": assemble(lang, lang.starter_units, fill=lambda i: "")}


def reference_files(lang: Lang) -> dict[str, str]:
    return {f"solution/{lang.filename}": assemble(lang, lang.reference_units, fill=lambda i: "")}
