package procedures

// NeedsReason reports whether an actor holding roles must give a reason
// to take action now: a refusal, a stop for cause or a request for
// documents, which the applicant is told the reason of. It reports false
// for an action the roles may not take now, as Allowed would not offer it.
func (l Lifecycle) NeedsReason(action Action, roles ...Role) bool {
	t, err := l.rule(action, roles)
	return err == nil && t.reason
}
