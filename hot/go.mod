module github.com/hotrun-dev/hotrun/hot

go 1.26.7
