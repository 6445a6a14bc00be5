package main

var Logic = func(name string) string { return name }

func init() { panic("boom in init") }

func main() {}
