package wordcount

import "testing"

func TestEmpty(t *testing.T) {
	if got := TopWords("", 3); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}
