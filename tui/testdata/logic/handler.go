package main

import (
	"fmt"
	"net/http"

	"example.com/app/shared"
)

// Handler answers the app's requests.
func Handler(s *shared.State) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.Hits.Add(1)
		fmt.Fprintf(w, "hello %d\n", cnt)
		renderItems(w, s.Items)
	})
}
