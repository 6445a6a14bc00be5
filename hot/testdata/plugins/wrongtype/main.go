package main

var Logic = func(n int) int { return n }

func main() {}
