module stats

go 1.26
