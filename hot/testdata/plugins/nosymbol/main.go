package main

var Other = func(name string) string { return name }

func main() {}
