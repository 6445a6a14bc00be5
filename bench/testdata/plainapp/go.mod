module example.com/plainapp

go 1.26
