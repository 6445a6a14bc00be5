module example.com/chatplain

go 1.26
