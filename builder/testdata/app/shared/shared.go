package shared

// Greeter is what the logic exports.
type Greeter interface{ Greet() string }
