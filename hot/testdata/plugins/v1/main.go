package main

// Logic is looked up as a func(string) string variable.
var Logic = func(name string) string { return "v1 hello " + name }

func main() {}
