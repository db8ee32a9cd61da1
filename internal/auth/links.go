package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/mail"
	"chancery/internal/store"
)

// Citizens register and recover their passwords by e-mail: the service
// mails a single-use link whose token only the address's owner can read.
// A registration creates no account until its link is followed, so an
// address nobody confirmed has no account, cannot sign in and cannot
// apply for anything; and both forms answer alike whether or not the
// address has an account, so they tell nobody who is registered.

// Mailer queues e-mail in the transaction of the change it announces;
// *mail.Outbox implements it.
type Mailer interface {
	EnqueueTx(ctx context.Context, tx *store.Tx, m mail.Message) error
	Nudge()
}

// How long the mailed links work, and how many each address receives. A
// reset link is short-lived: whoever reads the mailbox later (a shared
// computer, a forwarded mail) should find it dead.
const (
	RegisterLinkTTL = 24 * time.Hour
	ResetLinkTTL    = 30 * time.Minute
	// mailsPerRecipient bounds the links and notices one e-mail address
	// receives per mailWindow, so the forms cannot flood a mailbox; past
	// it the forms answer as always and send nothing.
	mailsPerRecipient = 3
	// mailsPerClient bounds the mails one client address has sent per
	// mailWindow; past it the forms are refused (429), which tells
	// nothing about any account.
	mailsPerClient = 20
	mailWindow     = time.Hour
)

// The purposes of links, stored in auth_links.purpose.
const (
	linkRegister = "register"
	linkReset    = "reset"
)

// The actions of the e-mail flows in the audit ledger.
const (
	actResetRequest = "password.reset_request" // a reset link mailed
	actRecover      = "password.recover"       // a password set through a reset link
)

var (
	errNoMail = newAuthError(errs.ErrUnavailable, "no_mail", "auth.error.no_mail", "",
		"this site sends no e-mail, so it cannot confirm addresses or reset passwords; the operator must configure --smtp")
	errBadLink = newAuthError(errs.ErrInvalid, "link_invalid", "auth.error.link", "",
		"the link is wrong, expired or already used; ask for a new one")
)

// Registration is a citizen's request for an account on the public site.
type Registration struct {
	Email, FullName, Phone, Password string
	// Lang is the language of the mail sent.
	Lang i18n.Lang
	// Address is the client's IP address, for the limit on mails.
	Address string
}

// RegisterCitizen checks a registration and mails its address either a
// link to confirm it (the account is created when the link is followed,
// see ConfirmRegistration) or, when the address already has an account, a
// notice saying so with where to sign in or reset the password. The
// answer is the same either way, and takes as long: whoever registers
// learns nothing about the address unless they can read its mail.
//
// It returns an *errs.FieldError for a field the directory or the
// password policy refuses, errs.ErrRateLimited when the client address
// has sent too many mails, and errs.ErrUnavailable when no mailer is set.
func (s *Service) RegisterCitizen(ctx context.Context, reg Registration) error {
	if s.mailer == nil {
		return errNoMail
	}
	in, err := identity.NewCitizen{Email: reg.Email, FullName: reg.FullName, Phone: reg.Phone}.Check()
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := CheckPassword(reg.Password, in.Email); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	// Hash whether or not the address has an account, so both answers
	// take as long.
	hash, err := s.hash(ctx, reg.Password)
	if err != nil {
		return err
	}
	now := s.clock()
	if err := s.mailAllowed(ctx, reg.Address, now); err != nil {
		return err
	}
	_, err = s.dir.CitizenByEmail(ctx, in.Email)
	switch {
	case err == nil:
		return s.sendMail(ctx, in.Email, now, func(tx *store.Tx) (*mail.Message, error) {
			return &mail.Message{To: []string{in.Email}, Subject: texts.T(reg.Lang, "auth.mail.registered.subject"),
				Text: texts.T(reg.Lang, "auth.mail.registered.body", s.link("/account/login"), s.link("/account/reset"))}, nil
		})
	case !errors.Is(err, errs.ErrNotFound):
		return fmt.Errorf("register: %w", err)
	}
	return s.sendMail(ctx, in.Email, now, func(tx *store.Tx) (*mail.Message, error) {
		token := newToken()
		l := link{token: token, purpose: linkRegister, email: in.Email, fullName: in.FullName, phone: in.Phone,
			passwordHash: hash, createdAt: now, expiresAt: now.Add(RegisterLinkTTL)}
		if err := insertLink(ctx, tx, l); err != nil {
			return nil, err
		}
		return &mail.Message{To: []string{in.Email}, Subject: texts.T(reg.Lang, "auth.mail.confirm.subject"),
			Text: texts.T(reg.Lang, "auth.mail.confirm.body", in.FullName, s.link("/account/verify?token="+token))}, nil
	})
}

// ConfirmRegistration creates the account of the registration whose
// mailed link carried token, with the name, phone number and password
// given when registering, and ends the other links of that registration's
// address. The link works once. The directory records the account
// ("citizen.register", by the citizen). It returns errs.ErrInvalid for a
// wrong, expired or used link and errs.ErrConflict when the address got
// an account meanwhile.
func (s *Service) ConfirmRegistration(ctx context.Context, token string) (identity.Citizen, error) {
	l, err := s.useLink(ctx, token, linkRegister)
	if err != nil {
		return identity.Citizen{}, err
	}
	c, err := s.dir.CreateCitizen(ctx, identity.NewCitizen{Email: l.email, FullName: l.fullName, Phone: l.phone})
	if errors.Is(err, errs.ErrConflict) {
		return identity.Citizen{}, errEmailTaken
	}
	if err != nil {
		return identity.Citizen{}, fmt.Errorf("confirm registration: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := putPassword(ctx, tx, "citizen", c.ID, l.passwordHash, false, s.clock()); err != nil {
			return err
		}
		return deleteLinks(ctx, tx, linkRegister, l.email)
	})
	if err != nil {
		return identity.Citizen{}, fmt.Errorf("confirm registration of citizen %d: %w", c.ID, err)
	}
	return c, nil
}

// RequestPasswordReset mails a link to set a new password to the citizen
// registered with email, if there is one. The audit ledger records the
// request ("password.reset_request", by the system actor "auth", with the
// client address, on the account if there is one), and a request refused
// or not sent for a limit as failed. The answer is the same whether or
// not the address has an account, and whether or not the address has had
// its mails this hour. It returns an *errs.FieldError for a malformed
// address, errs.ErrRateLimited when the client address has sent too many
// mails, and errs.ErrUnavailable when no mailer is set.
//
// Only citizens recover a password by mail; a staff member's address gets
// the same answer and no mail. A staff account guards a clearance with a
// second factor, and a mailed link would let whoever reads the work
// mailbox set the password on their own: staff ask an administrator, who
// issues a one-time password in person (identity's reset-password, page,
// API and CLI), leaving the second factor as it was.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, lang i18n.Lang, address string) error {
	if s.mailer == nil {
		return errNoMail
	}
	if strings.TrimSpace(email) == "" {
		return fieldError("email", "auth.error.required", "is required")
	}
	in, err := identity.NewCitizen{Email: email, FullName: "-"}.Check()
	if err != nil {
		return err
	}
	now := s.clock()
	request := accountEvent(ctx, sysAuth, 0, actResetRequest, "", 0)
	if address != "" {
		request.Attrs = map[string]string{"address": audit.AttrValue(address)}
	}
	if err := s.mailAllowed(ctx, address, now); err != nil {
		return s.refused(ctx, request, err)
	}
	c, err := s.dir.CitizenByEmail(ctx, in.Email)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("reset password: %w", err)
	}
	if _, blocked, err := s.mailsTo.blocked(ctx, strings.ToLower(in.Email), now); err != nil {
		return err
	} else if blocked {
		// The address has had its mails this hour: nothing is sent, the
		// ledger says why, and the answer is the usual one.
		request.Outcome, request.Reason = audit.Failed, "recipient_limit"
		return s.record(ctx, request)
	}
	// An address without an account goes the same way, recorded and
	// counted alike, only with nothing to mail: the answer's time tells
	// nothing either.
	return s.sendMail(ctx, in.Email, now, func(tx *store.Tx) (*mail.Message, error) {
		e := request
		if c.ID != 0 {
			e.ResourceType, e.ResourceID = "citizen", strconv.FormatInt(c.ID, 10)
		}
		if err := s.recordTx(ctx, tx, e); err != nil {
			return nil, err
		}
		if c.ID == 0 {
			return nil, nil
		}
		token := newToken()
		l := link{token: token, purpose: linkReset, email: c.Email, principalID: c.ID, createdAt: now, expiresAt: now.Add(ResetLinkTTL)}
		if err := insertLink(ctx, tx, l); err != nil {
			return nil, err
		}
		return &mail.Message{To: []string{c.Email}, Subject: texts.T(lang, "auth.mail.reset.subject"),
			Text: texts.T(lang, "auth.mail.reset.body", s.link("/account/reset/confirm?token="+token))}, nil
	})
}

// CheckResetLink reports, with errs.ErrInvalid, a reset link that is
// wrong, expired or used, without using it: the page asks for the new
// password only when the link would work.
func (s *Service) CheckResetLink(ctx context.Context, token string) error {
	hash, ok := hashToken(token)
	if !ok {
		return errBadLink
	}
	l, err := linkByHash(ctx, s.db, hash)
	if errors.Is(err, errs.ErrNotFound) || err == nil && (l.purpose != linkReset || !s.clock().Before(l.expiresAt)) {
		return errBadLink
	}
	return err
}

// ResetPassword sets password (checked against the policy: an
// *errs.FieldError on "password") on the account whose reset link carried
// token, ends every session and token of the account and every other
// reset link of it, and records it in the audit ledger
// ("password.recover", by the citizen). The link works once; a wrong,
// expired or used one is errs.ErrInvalid, recorded as a failed
// "password.recover" and counted against the client at address like a
// failed sign-in, so a client trying links is blocked as one guessing
// passwords is (errs.ErrRateLimited).
func (s *Service) ResetPassword(ctx context.Context, token, password, address string) error {
	if until, blocked, err := s.addresses.blocked(ctx, address, s.clock()); err != nil {
		return err
	} else if blocked {
		return throttledError(until)
	}
	err := s.resetPassword(ctx, token, password)
	if !errors.Is(err, errBadLink) {
		return err
	}
	now := s.clock()
	e := accountEvent(ctx, sysAuth, 0, actRecover, "", 0)
	if address != "" {
		e.Attrs = map[string]string{"address": audit.AttrValue(address)}
	}
	if err := s.failedFrom(ctx, address, now); err != nil {
		return err
	}
	return s.refused(ctx, e, err)
}

// resetPassword is ResetPassword without its record of refused links.
func (s *Service) resetPassword(ctx context.Context, token, password string) error {
	hash, ok := hashToken(token)
	if !ok {
		return errBadLink
	}
	l, err := linkByHash(ctx, s.db, hash)
	if errors.Is(err, errs.ErrNotFound) || err == nil && l.purpose != linkReset {
		return errBadLink
	}
	if err != nil {
		return err
	}
	p, err := s.lookup(ctx, authz.Citizen, l.principalID)
	if errors.Is(err, errs.ErrNotFound) {
		return errBadLink
	}
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if err := CheckPassword(password, p.username); err != nil {
		return err
	}
	pwHash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		// Using the link inside the change makes it single-use even when
		// two requests race with it: only one deletes the row.
		if _, err := takeLink(ctx, tx, hash, linkReset, now); err != nil {
			return err
		}
		if err := putPassword(ctx, tx, "citizen", p.id, pwHash, false, now); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, "citizen", p.id); err != nil {
			return err
		}
		if err := deleteLinks(ctx, tx, linkReset, l.email); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, byAccount(ctx, actRecover, p))
	})
}

// useLink uses up the link of token for purpose and returns it.
func (s *Service) useLink(ctx context.Context, token, purpose string) (link, error) {
	hash, ok := hashToken(token)
	if !ok {
		return link{}, errBadLink
	}
	var l link
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		l, err = takeLink(ctx, tx, hash, purpose, s.clock())
		return err
	})
	return l, err
}

// mailAllowed counts one mail sent for the client at address, refusing it
// past mailsPerClient per mailWindow.
func (s *Service) mailAllowed(ctx context.Context, address string, now time.Time) error {
	if until, blocked, err := s.mailsFrom.blocked(ctx, address, now); err != nil {
		return err
	} else if blocked {
		return throttledError(until)
	}
	_, _, err := s.mailsFrom.fail(ctx, address, now)
	return err
}

// sendMail queues the message compose makes in its transaction (with
// whatever compose stores; a nil message sends nothing) and sweeps
// expired links, unless to has had mailsPerRecipient mails this
// mailWindow: then nothing is sent or stored, and the caller answers as
// usual.
func (s *Service) sendMail(ctx context.Context, to string, now time.Time, compose func(*store.Tx) (*mail.Message, error)) error {
	key := strings.ToLower(to)
	if _, blocked, err := s.mailsTo.blocked(ctx, key, now); err != nil || blocked {
		return err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := sweepLinks(ctx, tx, now); err != nil {
			return err
		}
		m, err := compose(tx)
		if err != nil || m == nil {
			return err
		}
		return s.mailer.EnqueueTx(ctx, tx, *m)
	})
	if err != nil {
		return fmt.Errorf("queue a link or notice: %w", err)
	}
	if _, _, err := s.mailsTo.fail(ctx, key, now); err != nil {
		// The mail is queued; only its counting failed.
		s.log.WarnContext(ctx, "auth: a mail was not counted against its recipient's limit", "err", err)
	}
	s.mailer.Nudge()
	return nil
}

// link returns the public site's address of path.
func (s *Service) link(path string) string {
	return strings.TrimSuffix(s.linkBase(), "/") + path
}
