module example.com/webplain

go 1.26.7
