// Package greet says hello.
package greet

// Hello is the greeting of name.
func Hello(name string) map[string]string { return map[string]string{"hello": name} }
