package stats

// Helpers beside the hidden tests (no tests of their own): the hidden tests use them.

// maxCase is one case of Max: its input and the largest value.
type maxCase struct {
	name string
	xs   []int
	want int
}

// countdown returns n, n-1, ..., 1.
func countdown(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = n - i
	}
	return xs
}
