package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Ciphertext layout, format 2 (a stream, for content too large to hold
// in memory at once):
//
//	format (1) = 2 | key version (4, big-endian) | salt (32) | chunk… | final chunk
//
// Each chunk is StreamChunk bytes of plaintext sealed with AES-GCM, its
// 16-byte tag appended; the final chunk holds 0 to StreamChunk bytes and
// is always present. Each stream has its own AES-256 key, derived with
// HKDF-SHA256 from the purpose's data key, the stream's random salt and
// the additional data Open would be given (header, purpose, caller's
// data), so nonces need not be random: chunk i's nonce is i as an 11-byte
// big-endian counter followed by 1 for the final chunk and 0 for the
// others. Chunks cannot then be reordered, dropped, or moved between
// streams, and a stream cut at a chunk boundary fails to open, as its
// last chunk was not sealed as final (the STREAM construction of Hoang,
// Reyhanitabar, Rogaway and Vizár, as Tink's streaming AEAD and age use it).
const (
	formatStream = 2
	streamSalt   = 32
	// StreamChunk is the plaintext size of a stream's chunks: what a
	// SealWriter or OpenReader holds in memory, twice.
	StreamChunk = 64 << 10
	// streamHeaderLen is the header of a stream, before its chunks.
	streamHeaderLen = headerLen + streamSalt
)

// SealWriter returns a writer that seals what is written to it, as Seal
// does for purpose and additionalData but chunk by chunk in format 2, and
// writes the ciphertext to w as it goes, holding at most StreamChunk bytes
// of plaintext. Close writes the final chunk and must be called, or the
// stream will not open; it does not close w. After an error from w every
// call returns that error.
//
// SealWriter returns an error wrapping ErrUnknownPurpose if the keyring
// has no key for purpose.
func (r *Ring) SealWriter(ctx context.Context, purpose string, w io.Writer, additionalData []byte) (io.WriteCloser, error) {
	keys := r.current().data[purpose]
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	k := keys[len(keys)-1]
	header := make([]byte, streamHeaderLen)
	header[0] = formatStream
	binary.BigEndian.PutUint32(header[1:headerLen], k.version)
	rand.Read(header[headerLen:])
	aead, err := streamAEAD(k, header, purpose, additionalData)
	if err != nil {
		return nil, err
	}
	sw := &sealWriter{w: w, aead: aead, plain: make([]byte, 0, StreamChunk), sealed: make([]byte, 0, StreamChunk+gcmTag)}
	if _, err := w.Write(header); err != nil {
		return nil, err
	}
	return sw, nil
}

// streamAEAD returns AES-256-GCM under the key of a stream with header
// (format, version, salt), sealed with k for purpose and additionalData.
func streamAEAD(k *dataKey, header []byte, purpose string, additionalData []byte) (cipher.AEAD, error) {
	info := append([]byte("chancery/keys/v2 stream\x00"), dataAD(header[:headerLen], purpose, additionalData)...)
	key, err := hkdf.Key(sha256.New, k.raw, header[headerLen:streamHeaderLen], string(info), 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive a stream key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return cipher.NewGCM(block)
}

// chunkNonce returns the nonce of chunk i of a stream.
func chunkNonce(nonce []byte, i uint64, final bool) []byte {
	nonce = nonce[:gcmNonce]
	clear(nonce)
	binary.BigEndian.PutUint64(nonce[gcmNonce-1-8:gcmNonce-1], i)
	if final {
		nonce[gcmNonce-1] = 1
	}
	return nonce
}

type sealWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	plain  []byte // the chunk being filled, not yet sealed
	sealed []byte // scratch for a sealed chunk
	nonce  [gcmNonce]byte
	next   uint64 // the index of the next chunk
	err    error  // the first error, returned from then on
	closed bool
}

// Write seals p a chunk at a time. A full chunk is sealed only when more
// plaintext follows, since until then it may be the final one.
func (s *sealWriter) Write(p []byte) (int, error) {
	if s.closed && s.err == nil {
		s.err = errors.New("keys: write to a closed stream")
	}
	n := 0
	for len(p) > 0 && s.err == nil {
		if len(s.plain) == StreamChunk {
			s.seal(false)
			continue
		}
		c := copy(s.plain[len(s.plain):StreamChunk], p)
		s.plain = s.plain[:len(s.plain)+c]
		p, n = p[c:], n+c
	}
	return n, s.err
}

// Close seals and writes the final chunk.
func (s *sealWriter) Close() error {
	if s.closed {
		return s.err
	}
	if s.err == nil {
		s.seal(true)
	}
	s.closed = true
	return s.err
}

func (s *sealWriter) seal(final bool) {
	s.sealed = s.aead.Seal(s.sealed[:0], chunkNonce(s.nonce[:], s.next, final), s.plain, nil)
	s.next++
	s.plain = s.plain[:0]
	if _, err := s.w.Write(s.sealed); err != nil {
		s.err = err
	}
}

// OpenReader returns a reader of the plaintext of a ciphertext read from
// src, sealed for purpose with additionalData by Seal (format 1, read
// whole and opened, as Open does) or by SealWriter (format 2, opened a
// chunk at a time as it is read, holding at most two chunks). A format 2
// stream's plaintext is returned only after its chunk is authenticated;
// the reader's Read returns an error wrapping ErrCorrupt at the first
// chunk that does not open, and at the end of a stream cut short, so a
// caller must read to io.EOF before trusting what it read as whole.
//
// OpenReader returns the errors Open does for the ciphertext's header,
// and the error reading src.
func (r *Ring) OpenReader(ctx context.Context, purpose string, src io.Reader, additionalData []byte) (io.Reader, error) {
	header := make([]byte, streamHeaderLen)
	n, err := io.ReadFull(src, header[:headerLen])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n == headerLen && header[0] == formatV1 {
		rest, err := io.ReadAll(src)
		if err != nil {
			return nil, err
		}
		plain, err := r.Open(ctx, purpose, append(header[:headerLen], rest...), additionalData)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(plain), nil
	}
	if n < headerLen || header[0] != formatStream {
		return nil, fmt.Errorf("%w: not a ciphertext of a known format", ErrCorrupt)
	}
	if _, err := io.ReadFull(src, header[headerLen:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the stream ends within its header", ErrCorrupt)
		}
		return nil, err
	}
	k, err := r.dataKey(ctx, purpose, binary.BigEndian.Uint32(header[1:headerLen]))
	if err != nil {
		return nil, err
	}
	aead, err := streamAEAD(k, header, purpose, additionalData)
	if err != nil {
		return nil, err
	}
	return &openReader{src: src, aead: aead, in: make([]byte, StreamChunk+gcmTag+1), buf: make([]byte, 0, StreamChunk)}, nil
}

type openReader struct {
	src   io.Reader
	aead  cipher.AEAD
	in    []byte // a sealed chunk and the first byte of the next
	ahead int    // bytes of the next chunk already in in
	buf   []byte // an opened chunk
	plain []byte // what of buf is not yet returned
	nonce [gcmNonce]byte
	next  uint64
	err   error // io.EOF after the final chunk, or the first error
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 && o.err == nil {
		o.openChunk()
	}
	if len(o.plain) > 0 {
		n := copy(p, o.plain)
		o.plain = o.plain[n:]
		return n, nil
	}
	return 0, o.err
}

// openChunk reads and opens the next chunk. Reading one byte past a full
// chunk tells whether it is the final one.
func (o *openReader) openChunk() {
	n, err := io.ReadFull(o.src, o.in[o.ahead:])
	n += o.ahead
	final := false
	switch {
	case err == nil:
		n-- // the byte of the next chunk
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		final = true
	default:
		o.err = err
		return
	}
	plain, err := o.aead.Open(o.buf[:0], chunkNonce(o.nonce[:], o.next, final), o.in[:n], nil)
	if err != nil {
		o.err = fmt.Errorf("%w: chunk %d of the stream does not open (tampered, cut short, or wrong purpose or additional data)", ErrCorrupt, o.next)
		return
	}
	o.next++
	o.plain = plain
	if final {
		o.err = io.EOF
		return
	}
	o.in[0], o.ahead = o.in[n], 1
}
