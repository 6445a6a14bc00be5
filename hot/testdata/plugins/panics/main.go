package main

var Logic = func(name string) string { panic("handler boom: " + name) }

func main() {}
