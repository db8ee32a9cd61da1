package identity_test

import (
	"errors"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestCitizens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		c, err := s.CreateCitizen(ctx, identity.NewCitizen{Email: "  Lan.Nguyen@Example.COM ", FullName: "Nguyễn Thị Lan", Phone: "+84 912 345 678"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "lan.nguyen@example.com" {
			t.Fatalf("email stored as %q, want lower case", c.Email)
		}
		for _, lookup := range []func() (identity.Citizen, error){
			func() (identity.Citizen, error) { return s.Citizen(ctx, c.ID) },
			func() (identity.Citizen, error) { return s.CitizenByEmail(ctx, "LAN.nguyen@example.com") },
		} {
			if got, err := lookup(); err != nil || got != c {
				t.Fatalf("lookup = %+v, %v; want %+v", got, err, c)
			}
		}
		if _, err := s.CreateCitizen(ctx, identity.NewCitizen{Email: "lan.nguyen@EXAMPLE.com", FullName: "Other"}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("duplicate e-mail = %v, want ErrConflict", err)
		}
		for _, in := range []struct {
			c     identity.NewCitizen
			field string
		}{
			{identity.NewCitizen{Email: "", FullName: "A"}, "email"},
			{identity.NewCitizen{Email: "a@b", FullName: "A"}, "email"},
			{identity.NewCitizen{Email: "a@example.com", FullName: ""}, "full_name"},
			{identity.NewCitizen{Email: "a@example.com", FullName: "A", Phone: "call me"}, "phone"},
		} {
			_, err := s.CreateCitizen(ctx, in.c)
			wantField(t, err, in.field)
		}
		if _, err := s.CitizenByEmail(ctx, "nobody@example.com"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown citizen = %v", err)
		}
	})
}
