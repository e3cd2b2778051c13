package warm

import "testing"

func TestWarm(t *testing.T) {
	t.Run("sub", func(t *testing.T) {})
}
