//go:build race

package exchange

// raceEnabled reports whether the race detector is on, which slows the
// transport several times over: the fault tests scale down under it.
const raceEnabled = true
