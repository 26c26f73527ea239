package gpu

// notYet panics for an op whose family has no shader yet (see stubs_*.go).
func notYet(op string) { panicf("%s: not implemented yet", op) }
