module example.com/chat

go 1.26.7

require github.com/hotrun-dev/hotrun/hot v0.1.0

replace github.com/hotrun-dev/hotrun/hot => ../../../hot
