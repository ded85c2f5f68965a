package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// WAV format tags (the fmt chunk's wFormatTag).
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveGSM610     = 0x0031
	waveExtensible = 0xFFFE
)

// ErrNotWAV is wrapped by every error ReadWAV returns for a file that is not a usable WAV file.
var ErrNotWAV = errors.New("not a usable WAV file")

// WAVInfo is what a WAV file's header says about its audio, checked against the file's size.
type WAVInfo struct {
	// Format is the wFormatTag (for WAVE_FORMAT_EXTENSIBLE, the sub-format's tag).
	Format        uint16
	Channels      int
	SampleRate    int
	BitsPerSample int
	BlockAlign    int
	ByteRate      int
	// DataOffset is where the audio starts in the file.
	DataOffset int64
	// DataBytes is how many bytes of audio the file holds (whole blocks only when Unterminated).
	DataBytes int64
	// FactFrames is the sample-frame count of a fact chunk (compressed formats), 0 if none.
	FactFrames int64
	// Unterminated reports a header whose sizes were never completed (0 or 0xFFFFFFFF, as a writer
	// that stopped abnormally leaves them) or claim more audio than the file holds. DataBytes is
	// then what the file really holds.
	Unterminated bool
}

// Codec names the audio encoding, e.g. "pcm_s16le".
func (i WAVInfo) Codec() string {
	switch i.Format {
	case wavePCM:
		if i.BitsPerSample == 8 {
			return "pcm_u8"
		}
		return fmt.Sprintf("pcm_s%dle", i.BitsPerSample)
	case waveFloat:
		return fmt.Sprintf("pcm_f%dle", i.BitsPerSample)
	case waveALaw:
		return "pcm_alaw"
	case waveMuLaw:
		return "pcm_mulaw"
	case waveGSM610:
		return "gsm_ms"
	}
	return fmt.Sprintf("wav_format_0x%04x", i.Format)
}

// pcmLike reports whether every block is one sample frame, so the duration follows from the size.
func (i WAVInfo) pcmLike() bool {
	switch i.Format {
	case wavePCM, waveFloat, waveALaw, waveMuLaw:
		return true
	}
	return false
}

// Duration is how long the audio plays.
func (i WAVInfo) Duration() time.Duration {
	var frames, rate int64
	switch {
	case i.pcmLike():
		frames, rate = i.DataBytes/int64(i.BlockAlign), int64(i.SampleRate)
	case i.FactFrames > 0:
		frames, rate = i.FactFrames, int64(i.SampleRate)
	default:
		frames, rate = i.DataBytes, int64(i.ByteRate)
	}
	if rate <= 0 {
		return 0
	}
	// frames*time.Second could overflow for very long files: split into seconds and the rest.
	return time.Duration(frames/rate)*time.Second + time.Duration(frames%rate)*time.Second/time.Duration(rate)
}

// maxChunks bounds the chunks ReadWAV walks before the data chunk.
const maxChunks = 64

// ksdataformatSuffix is the tail of the KSDATAFORMAT_SUBTYPE GUIDs whose first two bytes are a
// WAVE format tag (WAVE_FORMAT_EXTENSIBLE).
var ksdataformatSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// ReadWAV reads the header of a RIFF/WAVE file of size bytes: the fmt chunk and where the data
// chunk is and how long it is. It reads only the chunk headers, never the audio, and it does not
// trust the sizes the header claims: they are checked against size. A file whose header sizes
// were never completed (a recorder that stopped abnormally) is accepted with Unterminated set.
func ReadWAV(r io.ReaderAt, size int64) (WAVInfo, error) {
	var info WAVInfo
	fail := func(f string, a ...any) (WAVInfo, error) {
		return WAVInfo{}, fmt.Errorf("%w: %s", ErrNotWAV, fmt.Sprintf(f, a...))
	}
	var hdr [12]byte
	if size < int64(len(hdr)) {
		return fail("%d bytes is too short for a RIFF header", size)
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return fail("reading the RIFF header: %v", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return fail("no RIFF/WAVE signature")
	}
	// The RIFF size bounds the chunk walk, unless it is unset or larger than the file.
	end := size
	if riff := int64(binary.LittleEndian.Uint32(hdr[4:8])); riff != 0 && riff != 0xFFFFFFFF && riff+8 < size {
		end = riff + 8
	}
	pos := int64(12)
	haveFmt := false
	for n := 0; ; n++ {
		if n == maxChunks {
			return fail("no data chunk among the first %d chunks", maxChunks)
		}
		if pos+8 > end {
			if !haveFmt {
				return fail("no fmt chunk")
			}
			return fail("no data chunk")
		}
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], pos); err != nil {
			return fail("reading a chunk header at %d: %v", pos, err)
		}
		id, csize := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		body := pos + 8
		switch id {
		case "fmt ":
			if haveFmt {
				return fail("two fmt chunks")
			}
			if csize < 16 {
				return fail("fmt chunk of %d bytes (at least 16)", csize)
			}
			if body+csize > size {
				return fail("fmt chunk overruns the file")
			}
			var f [40]byte
			k := min(csize, int64(len(f)))
			if _, err := r.ReadAt(f[:k], body); err != nil {
				return fail("reading the fmt chunk: %v", err)
			}
			info.Format = binary.LittleEndian.Uint16(f[0:2])
			info.Channels = int(binary.LittleEndian.Uint16(f[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(f[4:8]))
			info.ByteRate = int(binary.LittleEndian.Uint32(f[8:12]))
			info.BlockAlign = int(binary.LittleEndian.Uint16(f[12:14]))
			info.BitsPerSample = int(binary.LittleEndian.Uint16(f[14:16]))
			if info.Format == waveExtensible {
				if k < 40 {
					return fail("WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes (40)", csize)
				}
				if [14]byte(f[26:40]) != ksdataformatSuffix {
					return fail("WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID")
				}
				info.Format = binary.LittleEndian.Uint16(f[24:26])
			}
			if err := info.check(); err != nil {
				return fail("%v", err)
			}
			haveFmt = true
		case "fact":
			if csize >= 4 && body+4 <= size {
				var f [4]byte
				if _, err := r.ReadAt(f[:], body); err != nil {
					return fail("reading the fact chunk: %v", err)
				}
				info.FactFrames = int64(binary.LittleEndian.Uint32(f[:]))
			}
		case "data":
			if !haveFmt {
				return fail("data chunk before the fmt chunk")
			}
			info.DataOffset = body
			held := size - body
			if held < 0 {
				held = 0
			}
			info.DataBytes = csize
			if csize == 0 || csize == 0xFFFFFFFF || csize > held {
				// The size was never written or the file was cut short: take what is there, in
				// whole blocks.
				info.Unterminated = csize != held
				info.DataBytes = held - held%int64(info.BlockAlign)
			}
			if info.FactFrames > 0 && info.pcmLike() {
				info.FactFrames = 0 // a fact chunk is for compressed formats; the size is authoritative
			}
			return info, nil
		}
		pos = body + csize + csize&1
	}
}

// check validates the fmt chunk's fields.
func (i WAVInfo) check() error {
	if i.Channels < 1 || i.Channels > 16 {
		return fmt.Errorf("%d channels", i.Channels)
	}
	if i.SampleRate < 1 || i.SampleRate > 768000 {
		return fmt.Errorf("sample rate %d Hz", i.SampleRate)
	}
	if i.BlockAlign < 1 {
		return fmt.Errorf("block align %d", i.BlockAlign)
	}
	bits := map[uint16][]int{wavePCM: {8, 16, 24, 32}, waveFloat: {32, 64}, waveALaw: {8}, waveMuLaw: {8}}
	if allowed, ok := bits[i.Format]; ok {
		okBits := false
		for _, b := range allowed {
			okBits = okBits || b == i.BitsPerSample
		}
		if !okBits {
			return fmt.Errorf("%d bits per sample for %s", i.BitsPerSample, i.Codec())
		}
		if i.BlockAlign != i.Channels*i.BitsPerSample/8 {
			return fmt.Errorf("block align %d, want %d for %d channel(s) of %d bits",
				i.BlockAlign, i.Channels*i.BitsPerSample/8, i.Channels, i.BitsPerSample)
		}
		if i.ByteRate != i.SampleRate*i.BlockAlign {
			return fmt.Errorf("byte rate %d, want %d", i.ByteRate, i.SampleRate*i.BlockAlign)
		}
		return nil
	}
	if i.Format != 0 { // compressed (GSM 6.10 from Asterisk's wav49, ...): the byte rate gives the duration
		if i.ByteRate < 1 {
			return fmt.Errorf("byte rate %d", i.ByteRate)
		}
		return nil
	}
	return fmt.Errorf("format tag 0")
}
