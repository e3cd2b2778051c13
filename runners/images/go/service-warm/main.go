// Package main imports every service library of the image once, so the image's warm
// build cache holds them compiled (a service's build then links against it).
package main

import (
	"database/sql"
	"net/http"

	_ "github.com/go-chi/chi"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/gomodule/redigo/redis"
	_ "github.com/gorilla/mux"
	_ "github.com/lib/pq"
)

func main() {
	_ = sql.Drivers()
	_ = http.NewServeMux()
}
