package wordcount

import (
	"reflect"
	"testing"
)

func TestTopWords(t *testing.T) {
	cases := []struct {
		name string
		text string
		n    int
		want []string
	}{
		{"simple", "a b a", 1, []string{"a"}},
		{"ties", "b a", 2, []string{"a", "b"}},
		{"wrong on purpose", "x", 1, []string{"y"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TopWords(tc.text, tc.n); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("TopWords(%q, %d) = %v, want %v", tc.text, tc.n, got, tc.want)
			}
		})
	}
}
