package audit

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"chancery/internal/errs"
)

// hashSize is the size of every hash in the tree (SHA-256).
const hashSize = 32

// maxTreeSize bounds the tree so that node keys fit in an int64.
const maxTreeSize = 1 << 61

// ErrBadProof is wrapped by the errors of VerifyInclusion and
// VerifyConsistency when a proof does not lead to the expected root.
var ErrBadProof = errors.New("audit: proof does not verify")

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// nodeKey returns the key that stores the perfect node id: its position in
// post-order, which is the order in which appending leaves completes
// nodes. A node completes when its last leaf e arrives, after the 2e -
// popcount(e) nodes of the tree of size e and after its own descendants
// on the right border, one per level below it.
func nodeKey(id compact.NodeID) int64 {
	e := (id.Index+1)<<id.Level - 1
	return int64(2*e - uint64(bits.OnesCount64(e)) + uint64(id.Level))
}

// nodeCount returns the number of perfect nodes in a tree of size n, which
// is also the key of the next node to complete.
func nodeCount(n uint64) int64 {
	return int64(2*n - uint64(bits.OnesCount64(n)))
}

func nodeKeys(ids []compact.NodeID) []int64 {
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = nodeKey(id)
	}
	return keys
}

// checkTreeSize refuses a tree size the ledger has not reached yet.
func (l *Ledger) checkTreeSize(ctx context.Context, size uint64) error {
	if size <= l.size.Load() {
		return nil
	}
	t, err := readTree(ctx, l.db, l.db.Dialect, false)
	if err != nil {
		return err
	}
	l.noteSize(t.size)
	if size > t.size {
		return fmt.Errorf("%w: tree size %d is beyond the ledger's %d integrated events", errs.ErrInvalid, size, t.size)
	}
	return nil
}

// InclusionProof returns the proof that event seq is included in the tree
// of size treeSize (RFC 6962 section 2.1.1), which VerifyInclusion checks
// against that tree's root, such as a checkpoint's.
//
// It returns an error wrapping errs.ErrInvalid if treeSize is zero or
// beyond the integrated tree, or if seq is not below treeSize.
func (l *Ledger) InclusionProof(ctx context.Context, seq, treeSize uint64) ([][]byte, error) {
	if treeSize == 0 {
		return nil, fmt.Errorf("%w: tree size must be at least 1", errs.ErrInvalid)
	}
	if seq >= treeSize {
		return nil, fmt.Errorf("%w: event %d is not in a tree of size %d (sequence numbers start at 0)", errs.ErrInvalid, seq, treeSize)
	}
	if err := l.checkTreeSize(ctx, treeSize); err != nil {
		return nil, err
	}
	nodes, err := proof.Inclusion(seq, treeSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.ErrInvalid, err)
	}
	return l.proofHashes(ctx, nodes)
}

// ConsistencyProof returns the proof that the tree of size size1 is a
// prefix of the tree of size size2 (RFC 6962 section 2.1.2), which
// VerifyConsistency checks against the two roots. The proof between equal
// sizes is empty.
//
// It returns an error wrapping errs.ErrInvalid if size1 is zero, if size1
// is greater than size2, or if size2 is beyond the integrated tree.
func (l *Ledger) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	if size1 == 0 {
		return nil, fmt.Errorf("%w: the first tree size must be at least 1 (every tree extends the empty one)", errs.ErrInvalid)
	}
	if size1 > size2 {
		return nil, fmt.Errorf("%w: the first tree size %d is greater than the second, %d", errs.ErrInvalid, size1, size2)
	}
	if err := l.checkTreeSize(ctx, size2); err != nil {
		return nil, err
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.ErrInvalid, err)
	}
	return l.proofHashes(ctx, nodes)
}

// proofHashes fetches the stored nodes of a proof in one query and
// computes its ephemeral node, if any.
func (l *Ledger) proofHashes(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := selectNodes(ctx, l.db, nodeKeys(nodes.IDs))
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// VerifyInclusion checks that leafHash is the leaf at index seq of the tree
// of size treeSize with the given root. It returns nil if it is, and an
// error wrapping ErrBadProof otherwise.
func VerifyInclusion(leafHash []byte, seq, treeSize uint64, proofHashes [][]byte, root []byte) error {
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, seq, treeSize, leafHash, proofHashes, root); err != nil {
		return fmt.Errorf("%w: inclusion of event %d in tree of size %d: %v", ErrBadProof, seq, treeSize, err)
	}
	return nil
}

// VerifyConsistency checks that the tree of size size1 with root root1 is a
// prefix of the tree of size size2 with root root2. It returns nil if it
// is, and an error wrapping ErrBadProof otherwise.
func VerifyConsistency(size1, size2 uint64, proofHashes [][]byte, root1, root2 []byte) error {
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, proofHashes, root1, root2); err != nil {
		return fmt.Errorf("%w: consistency of tree size %d with %d: %v", ErrBadProof, size1, size2, err)
	}
	return nil
}
