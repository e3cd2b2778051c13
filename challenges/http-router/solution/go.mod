module router

go 1.26
