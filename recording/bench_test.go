package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkFinaliseFile is the file work Finalise does for one four-minute call leg (8 kHz 16-bit
// mono, 3.84 MB): checksum, WAV header, placing the file (a link on one filesystem, a copy with
// fsync across filesystems), checksum of the archived file, removing the spool file. The
// database rows are not included.
func BenchmarkFinaliseFile(b *testing.B) {
	src := sox(b, filepath.Join(b.TempDir(), "call.wav"), 240)
	audio, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"link", "copy"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "copy" {
				linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }
				defer func() { linkFile = os.Link }()
			}
			spool, archive := b.TempDir(), b.TempDir()
			b.SetBytes(int64(len(audio)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				p := filepath.Join(spool, fmt.Sprintf("%d.wav", i))
				if err := os.WriteFile(p, audio, 0o640); err != nil {
					b.Fatal(err)
				}
				dst := filepath.Join(archive, fmt.Sprintf("%d.wav", i))
				b.StartTimer()
				sum, size, err := hashFile(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := readWAVFile(p, size); err != nil {
					b.Fatal(err)
				}
				if _, err := placeFile(p, dst); err != nil {
					b.Fatal(err)
				}
				if got, _, err := hashFile(dst); err != nil || got != sum {
					b.Fatal("verification failed", err)
				}
				if err := removeFile(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
