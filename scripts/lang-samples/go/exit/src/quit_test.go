package quit

import "testing"

func TestA(t *testing.T) {
	if Double(2) != 4 {
		t.Fatal("2*2")
	}
}

func TestB(t *testing.T) {
	Double(13)
}

func TestC(t *testing.T) {}
