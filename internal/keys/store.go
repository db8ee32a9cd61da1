package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Store keeps the keyring in its stored form: a JSON document in which every
// secret is wrapped by the master key, so a Store needs no protection beyond
// integrity and availability. Each save is numbered; a Store refuses a save
// that does not build on the latest one, so processes sharing a Store (the
// replicas of a headquarters node, through the database) never undo each
// other's rotations.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Load returns the stored keyring and its revision. It returns an
	// error wrapping ErrNoKeyring if nothing has been saved.
	Load(ctx context.Context) (data []byte, rev uint64, err error)

	// Save stores data if the stored revision is still prev (0 when
	// nothing has been saved) and returns the new revision. It returns an
	// error wrapping ErrConflict if another save came in between.
	Save(ctx context.Context, data []byte, prev uint64) (rev uint64, err error)
}

// MemStore is a Store in memory, for tests. The zero value is an empty
// store ready to use.
type MemStore struct {
	mu   sync.Mutex
	data []byte // guarded by mu
	rev  uint64 // guarded by mu
}

// Load implements Store.
func (s *MemStore) Load(ctx context.Context) ([]byte, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rev == 0 {
		return nil, 0, ErrNoKeyring
	}
	return slices.Clone(s.data), s.rev, nil
}

// Save implements Store.
func (s *MemStore) Save(ctx context.Context, data []byte, prev uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rev != prev {
		return 0, fmt.Errorf("%w: revision %d, not %d", ErrConflict, s.rev, prev)
	}
	s.data = slices.Clone(data)
	s.rev++
	return s.rev, nil
}

// FileStore is a Store in a JSON file, written with mode 0600 through a
// synced temporary file and a rename, so a crash never leaves a partial
// keyring. It assumes that one process at a time uses the file.
type FileStore struct {
	path string
	mu   sync.Mutex // serializes Save's read-compare-write
}

// NewFileStore returns a FileStore keeping the keyring in the file at path.
// The file and its directory are created on the first Save.
func NewFileStore(path string) *FileStore {
	return &FileStore{path: path}
}

// fileDocument is the content of a FileStore's file.
type fileDocument struct {
	Revision uint64          `json:"revision"`
	Keyring  json.RawMessage `json:"keyring"`
}

// Load implements Store.
func (s *FileStore) Load(ctx context.Context) ([]byte, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, err := s.readLocked()
	if err != nil {
		return nil, 0, err
	}
	return doc.Keyring, doc.Revision, nil
}

// Save implements Store.
func (s *FileStore) Save(ctx context.Context, data []byte, prev uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur uint64
	switch doc, err := s.readLocked(); {
	case err == nil:
		cur = doc.Revision
	case !errors.Is(err, ErrNoKeyring):
		return 0, err
	}
	if cur != prev {
		return 0, fmt.Errorf("%w: %s is at revision %d, not %d", ErrConflict, s.path, cur, prev)
	}
	out, err := json.MarshalIndent(fileDocument{Revision: cur + 1, Keyring: data}, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("keys: encode %s: %w", s.path, err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return 0, fmt.Errorf("keys: %w", err)
	}
	if err := writeFileAtomic(s.path, append(out, '\n')); err != nil {
		return 0, fmt.Errorf("keys: %w", err)
	}
	return cur + 1, nil
}

func (s *FileStore) readLocked() (fileDocument, error) {
	var doc fileDocument
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, fmt.Errorf("%w: %s does not exist", ErrNoKeyring, s.path)
	}
	if err != nil {
		return doc, fmt.Errorf("keys: read keyring: %w", err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return doc, fmt.Errorf("keys: keyring file %s is damaged: %w", s.path, err)
	}
	if doc.Revision == 0 {
		return doc, fmt.Errorf("keys: keyring file %s is damaged: no revision", s.path)
	}
	return doc, nil
}
