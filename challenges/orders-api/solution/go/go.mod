module ordersapi

go 1.26
