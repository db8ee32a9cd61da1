package identity

import (
	"context"
	"fmt"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// ownPasswordPath is where staff change their own password (internal/auth).
const ownPasswordPath = "/console/sign-in/change-password"

// The account operations that need internal/auth besides the directory,
// shared by the API, the pages and the CLI.

// createAccount creates the staff member, proposing what takes a
// security officer's approval (see Service.AddStaff), and issues their
// first, one-time password.
func createAccount(ctx context.Context, svc *Service, creds Credentials, actor string, in NewStaff) (StaffMember, *Proposal, string, error) {
	m, proposal, err := svc.AddStaff(ctx, actor, in)
	if err != nil {
		return StaffMember{}, nil, "", err
	}
	otp, err := creds.IssueOneTimePassword(ctx, authz.Staff, m.ID)
	if err != nil {
		return StaffMember{}, nil, "", fmt.Errorf("account %s was created but its first password could not be issued (reset it to retry): %w", m.Username, err)
	}
	return m, proposal, otp, nil
}

// updateAccount applies p, proposing what takes a security officer's
// approval (see Service.ChangeStaff), and, when the change takes power
// away (disabling, a lower clearance, a role removed), ends the member's
// sessions so the change binds at once rather than at their next sign-in.
func updateAccount(ctx context.Context, svc *Service, creds Credentials, actor string, id int64, p StaffPatch) (StaffMember, *Proposal, error) {
	before, err := svc.Staff(ctx, id)
	if err != nil {
		return StaffMember{}, nil, err
	}
	after, proposal, err := svc.ChangeStaff(ctx, actor, id, p)
	if err != nil {
		return StaffMember{}, nil, err
	}
	lost := (after.Disabled && !before.Disabled) || after.Clearance < before.Clearance || before.Roles&^after.Roles != 0
	if lost {
		if err := creds.RevokeSessions(ctx, authz.Staff, id); err != nil {
			return StaffMember{}, nil, fmt.Errorf("account %s was changed but its sessions could not be ended; retry, or disable the account: %w", after.Username, err)
		}
	}
	return after, proposal, nil
}

// resetPassword issues a new one-time password for the staff member, on
// behalf of by: nobody resets their own (authz.DecidePasswordReset), which
// would skip the current password.
func resetPassword(ctx context.Context, svc *Service, creds Credentials, by authz.Subject, id int64) (StaffMember, string, error) {
	m, err := svc.Staff(ctx, id)
	if err != nil {
		return StaffMember{}, "", err
	}
	if d, why := authz.DecidePasswordReset(by, m.ID); d != authz.Allowed {
		return StaffMember{}, "", fmt.Errorf("%w: %s; change your own password at %s, which asks for the current one", errs.ErrForbidden, why, ownPasswordPath)
	}
	otp, err := creds.IssueOneTimePassword(ctx, authz.Staff, m.ID)
	if err != nil {
		return StaffMember{}, "", fmt.Errorf("issue a one-time password for %s: %w", m.Username, err)
	}
	return m, otp, nil
}
