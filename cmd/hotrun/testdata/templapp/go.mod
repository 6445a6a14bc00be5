module example.com/templapp

go 1.26.7

require (
	github.com/a-h/templ v0.3.1118
	github.com/hotrun-dev/hotrun/hot v0.1.0
)

replace github.com/hotrun-dev/hotrun/hot => ../../../../hot
