package store_test

import (
	"context"
	"errors"
	"testing"

	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestKeyringStoreComparesAndSwaps(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewKeyringStore(db)
		if _, _, err := s.Load(ctx); !errors.Is(err, keys.ErrNoKeyring) {
			t.Fatalf("Load of an empty store = %v, want ErrNoKeyring", err)
		}
		rev, err := s.Save(ctx, []byte("one"), 0)
		if err != nil || rev != 1 {
			t.Fatalf("first Save = %d, %v", rev, err)
		}
		if _, err := s.Save(ctx, []byte("rival first"), 0); !errors.Is(err, keys.ErrConflict) {
			t.Fatalf("a second first save = %v, want ErrConflict", err)
		}
		if rev, err = s.Save(ctx, []byte("two"), 1); err != nil || rev != 2 {
			t.Fatalf("Save after rev 1 = %d, %v", rev, err)
		}
		if _, err := s.Save(ctx, []byte("stale"), 1); !errors.Is(err, keys.ErrConflict) {
			t.Fatalf("a stale save = %v, want ErrConflict", err)
		}
		data, rev, err := s.Load(ctx)
		if err != nil || string(data) != "two" || rev != 2 {
			t.Fatalf("Load = %q, %d, %v", data, rev, err)
		}
	})
}

// TestKeyringInTheDatabaseIsSharedByReplicas shows two replicas sharing one
// keyring: data sealed by one opens in the other, also after a rotation.
func TestKeyringInTheDatabaseIsSharedByReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		master := keys.GenerateMasterKey()
		a, err := keys.Load(ctx, keys.Options{MasterKey: master, Store: store.NewKeyringStore(db)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := keys.Load(ctx, keys.Options{MasterKey: master, Store: store.NewKeyringStore(db)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Rotate(ctx, keys.PurposeRecords); err != nil {
			t.Fatal(err)
		}
		sealed, err := a.Seal(ctx, keys.PurposeRecords, []byte("công hàm"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := b.Open(ctx, keys.PurposeRecords, sealed, nil); err != nil || string(got) != "công hàm" {
			t.Fatalf("the other replica opens %q, %v", got, err)
		}
	})
}
