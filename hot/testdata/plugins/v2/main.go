package main

// Logic is a plain function this time: Lookup takes both forms.
func Logic(name string) string { return "v2 hello " + name }

func main() {}
