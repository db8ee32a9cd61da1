//go:build unix

package app

import "syscall"

// restrictFileModes makes every file and directory the process creates
// private to its user (0600 and 0700), whoever creates it: the SQLite
// driver's write-ahead log, blob storage (whose files the gocloud driver
// creates 0666), the embedded NATS server's store, command-line exports.
// The data directory holds the ministry's records and personal data, and
// the master key; no other account on the host has any business there.
func restrictFileModes() { syscall.Umask(0o077) }
