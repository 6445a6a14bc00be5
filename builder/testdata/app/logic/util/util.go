package util

func Word() string { return "one" }
