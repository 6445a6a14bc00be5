package main

import (
	"fmt"
	"os"
	"plugin"

	"example.com/app/shared"
)

func main() {
	for _, path := range os.Args[1:] {
		p, err := plugin.Open(path)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		s, err := p.Lookup("Logic")
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println((*s.(*shared.Greeter)).Greet())
	}
}
