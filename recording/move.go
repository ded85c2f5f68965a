package recording

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// linkFile is os.Link; tests replace it to force the copy used across filesystems.
var linkFile = os.Link

// afterCopy, when set by a test, runs on the archive copy before it is verified (to corrupt it).
var afterCopy func(path string)

// tempPrefix starts the names of partial copies in the archive; the orphan scan reports them.
const tempPrefix = ".kontakt-partial-"

// hashFile returns the SHA-256 (hex) and size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// placeFile makes the file src also appear at dst: by a hard link when both are on one
// filesystem, otherwise by a copy into a temporary file next to dst that is fsynced and linked
// into place. Either way src is left in place for the caller to remove once dst is verified, and
// an existing dst is never replaced. The directory of dst must exist.
func placeFile(src, dst string) (copied bool, err error) {
	err = linkFile(src, dst)
	if err == nil {
		return false, syncDir(filepath.Dir(dst))
	}
	if errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("%s already exists", dst)
	}
	// EXDEV (another filesystem) or a filesystem without hard links: copy.
	in, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), tempPrefix+"*")
	if err != nil {
		return false, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, in); err != nil {
		return false, fmt.Errorf("copying %s: %w", src, err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	// Link rather than rename, so that a dst created meanwhile is not overwritten.
	if err := os.Link(tmp.Name(), dst); err != nil {
		return false, err
	}
	os.Remove(tmp.Name())
	done = true
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return true, err
	}
	if afterCopy != nil {
		afterCopy(dst)
	}
	return true, nil
}

// removeFile removes path and makes the removal durable.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so that a rename, link or removal in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
