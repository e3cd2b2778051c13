package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {})
	_ = http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
