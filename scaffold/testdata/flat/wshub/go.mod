module example.com/chat

go 1.26.7

require github.com/gorilla/websocket v1.5.3
