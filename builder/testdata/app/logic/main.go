package main

import (
	"example.com/app/logic/util"
	"example.com/app/shared"
)

var Logic shared.Greeter = greeter{}

type greeter struct{}

func (greeter) Greet() string { return "hello " + util.Word() }

func main() {}
