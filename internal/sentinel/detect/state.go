package detect

import (
	"encoding/json"
	"fmt"
)

// MarshalState returns everything the engine has learnt, as JSON: the
// people and their baselines, the peer groups, the units, the sign-in
// windows and the feedback. Restored by UnmarshalState into an engine
// with the same Config, it scores what follows exactly as this one would.
func (e *Engine) MarshalState() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, err := json.Marshal(&e.st)
	if err != nil {
		return nil, fmt.Errorf("detect: save the state: %w", err)
	}
	return b, nil
}

// UnmarshalState replaces the engine's state with one MarshalState saved.
// A state that does not decode, or of another version, is refused and
// the engine's state is left as it was.
func (e *Engine) UnmarshalState(data []byte) error {
	st := newState()
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("detect: the saved state does not decode (%v); start from an empty state or restore another copy", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("detect: the saved state is version %d, this engine reads version %d; start from an empty state", st.Version, stateVersion)
	}
	for i, p := range st.People {
		if p == nil || p.ID == "" {
			return fmt.Errorf("detect: the saved state's person %d has no id; start from an empty state", i)
		}
	}
	st.normalise()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reset(st)
	return nil
}

// normalise gives a decoded state the maps a saved null left out and
// drops the null entries, so that nothing later writes to a nil map.
func (st *state) normalise() {
	def := newState()
	if st.Units == nil {
		st.Units = def.Units
	}
	if st.Codes == nil {
		st.Codes = def.Codes
	}
	if st.Groups == nil {
		st.Groups = def.Groups
	}
	if st.UAddrs == nil {
		st.UAddrs = def.UAddrs
	}
	if st.URecips == nil {
		st.URecips = def.URecips
	}
	if st.Accounts == nil {
		st.Accounts = def.Accounts
	}
	if st.FailAcct == nil {
		st.FailAcct = def.FailAcct
	}
	if st.FailAddr == nil {
		st.FailAddr = def.FailAddr
	}
	if st.Fired == nil {
		st.Fired = def.Fired
	}
	if st.UnitDays == nil {
		st.UnitDays = def.UnitDays
	}
	for k, u := range st.UnitDays {
		if u == nil {
			delete(st.UnitDays, k)
		}
	}
	if st.Mult == nil {
		st.Mult = def.Mult
	}
	for k, u := range st.Units {
		if u == nil {
			delete(st.Units, k)
		}
	}
	for k, g := range st.Groups {
		if g == nil {
			delete(st.Groups, k)
		}
	}
	for k, m := range st.UAddrs {
		if m == nil {
			delete(st.UAddrs, k)
		}
	}
	for k, m := range st.URecips {
		if m == nil {
			delete(st.URecips, k)
		}
	}
}
