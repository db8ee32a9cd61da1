package system

import "testing"

func TestSmoke(t *testing.T) {
	sz := worldSizes()
	sz.missions = 2
	w := newWorld(t, sz)
	t.Log(w.streamReplicas())
}
