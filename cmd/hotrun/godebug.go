// The Go runtime re-reads the CPU limit once a second to adjust GOMAXPROCS
// (Go 1.25). hotrun is a local tool that sits idle most of the day; that
// check alone would wake it every second.

//go:debug updatemaxprocs=0
package main
