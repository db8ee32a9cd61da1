package authz

import "testing"

// ministry is the ministry unit (the root) in the procedures' cases of
// TestDecide.
const ministry = 1

// TestEveryKindHasAName keeps the kinds' names, which pages ask Can by,
// complete as kinds are added.
func TestEveryKindHasAName(t *testing.T) {
	seen := map[string]bool{}
	for k := Kind(0); k < numKinds; k++ {
		n := k.String()
		if n == "" || n == "kind(?)" || seen[n] {
			t.Errorf("kind %d is named %q", k, n)
		}
		seen[n] = true
	}
}
