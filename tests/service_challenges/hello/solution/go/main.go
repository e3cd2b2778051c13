// Command hello answers /hello with a chi router, its greeting from a sub-package.
package main

import (
	"encoding/json"
	"net/http"
	"os"

	"example.com/hello/v2/greet"
	"github.com/go-chi/chi"
)

func main() {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Get("/hello", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(greet.Hello(req.URL.Query().Get("name")))
	})
	_ = http.ListenAndServe(":"+os.Getenv("PORT"), r)
}
