//go:build race

package system

// raceEnabled: the system test runs real processes and measures them;
// under the race detector it skips (.ci/run runs it in a step of its own).
const raceEnabled = true
