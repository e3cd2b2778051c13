package wordcount

import "fmt"

// Describe is badly formatted and has a vet finding.
func Describe(n int) string {
    return fmt.Sprintf("%d words", "n")
}
