module hotrun-ci/publish

go 1.26.7

require golang.org/x/mod v0.43.0
