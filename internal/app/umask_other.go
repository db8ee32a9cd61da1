//go:build !unix

package app

// restrictFileModes does nothing where there is no umask; the data
// directory's access list decides there.
func restrictFileModes() {}
