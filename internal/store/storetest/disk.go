package storetest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of size bytes on a new temporary directory and
// returns it, so that a test can fill a real disk and free it again; it
// is unmounted when the test ends. Mounting needs root (CI runs as root):
// elsewhere the test is skipped, saying why.
func SmallDisk(tb testing.TB, size int64) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("a full disk needs a small tmpfs, and mounting one needs root: run as root (CI does) to test it")
	}
	dir := tb.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10)+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		tb.Skipf("cannot mount a tmpfs for a full disk (%v: %s); run as root with CAP_SYS_ADMIN to test it", err, out)
	}
	tb.Cleanup(func() {
		// Lazily: a server of the test may still hold a file open.
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			tb.Errorf("unmount the test's tmpfs %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// FillDisk writes a file in dir until the disk holding it is full to the
// last byte, and returns a function that removes the file again. The
// disk stays full until then (or the end of the test).
func FillDisk(tb testing.TB, dir string) (free func()) {
	tb.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatalf("fill the disk: %v", err)
	}
	// Large writes first, then smaller ones for what they leave.
	for size := 1 << 20; size > 0; size /= 16 {
		buf := make([]byte, size)
		for {
			_, err := f.Write(buf)
			if err == nil {
				continue
			}
			if !errors.Is(err, syscall.ENOSPC) {
				f.Close()
				tb.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	f.Close()
	removed := false
	free = func() {
		if !removed {
			removed = true
			if err := os.Remove(path); err != nil {
				tb.Errorf("free the disk: %v", err)
			}
		}
	}
	tb.Cleanup(free)
	return free
}
