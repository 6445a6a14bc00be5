module github.com/hotrun-dev/hotrun/examples/chat

go 1.26.7

require (
	github.com/gorilla/websocket v1.5.3
	github.com/hotrun-dev/hotrun/hot v0.1.0
)

replace github.com/hotrun-dev/hotrun/hot => ../../hot
