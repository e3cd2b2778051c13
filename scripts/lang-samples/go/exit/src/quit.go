package quit

import "os"

// Double doubles n, and exits the process for 13.
func Double(n int) int {
	if n == 13 {
		os.Exit(3)
	}
	return 2 * n
}
