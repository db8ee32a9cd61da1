package identity

import (
	"context"
	"fmt"

	"chancery/internal/authz"
)

// The account operations that need internal/auth besides the directory,
// shared by the API, the pages and the CLI.

// createAccount creates the staff member and issues their first, one-time
// password.
func createAccount(ctx context.Context, svc *Service, creds Credentials, actor string, in NewStaff) (StaffMember, string, error) {
	m, err := svc.CreateStaff(ctx, actor, in)
	if err != nil {
		return StaffMember{}, "", err
	}
	otp, err := creds.IssueOneTimePassword(ctx, authz.Staff, m.ID)
	if err != nil {
		return StaffMember{}, "", fmt.Errorf("account %s was created but its first password could not be issued (reset it to retry): %w", m.Username, err)
	}
	return m, otp, nil
}

// updateAccount applies p and, when the change takes power away
// (disabling, a lower clearance, a role removed), ends the member's
// sessions so the change binds at once rather than at their next sign-in.
func updateAccount(ctx context.Context, svc *Service, creds Credentials, actor string, id int64, p StaffPatch) (StaffMember, error) {
	before, err := svc.Staff(ctx, id)
	if err != nil {
		return StaffMember{}, err
	}
	after, err := svc.UpdateStaff(ctx, actor, id, p)
	if err != nil {
		return StaffMember{}, err
	}
	lost := (after.Disabled && !before.Disabled) || after.Clearance < before.Clearance || before.Roles&^after.Roles != 0
	if lost {
		if err := creds.RevokeSessions(ctx, authz.Staff, id); err != nil {
			return StaffMember{}, fmt.Errorf("account %s was changed but its sessions could not be ended; retry, or disable the account: %w", after.Username, err)
		}
	}
	return after, nil
}

// resetPassword issues a new one-time password for the staff member.
func resetPassword(ctx context.Context, svc *Service, creds Credentials, id int64) (StaffMember, string, error) {
	m, err := svc.Staff(ctx, id)
	if err != nil {
		return StaffMember{}, "", err
	}
	otp, err := creds.IssueOneTimePassword(ctx, authz.Staff, m.ID)
	if err != nil {
		return StaffMember{}, "", fmt.Errorf("issue a one-time password for %s: %w", m.Username, err)
	}
	return m, otp, nil
}
