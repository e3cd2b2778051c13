// Package stats computes small statistics of integers.
package stats

// Sum returns the sum of xs (0 for none).
func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

// Max returns the largest of xs, and false when xs is empty.
func Max(xs []int) (int, bool) {
	best := 0
	for _, x := range xs {
		if x > best {
			best = x
		}
	}
	return best, len(xs) > 0
}
