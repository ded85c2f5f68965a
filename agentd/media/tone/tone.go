// Package tone makes and measures test audio for the softphone path: G.711 µ-law encoding and
// decoding, a phase-continuous sine generator producing 20 ms PCMU frames, and a Goertzel
// detector that finds the frequency of a received tone. It is pure and allocation-free on the hot
// paths, so tests, benchmarks and the headless agent can use it freely.
package tone

import "math"

// SampleRate is the PCMU clock rate.
const SampleRate = 8000

// FrameSamples is the number of samples (and bytes of PCMU) in a 20 ms frame.
const FrameSamples = 160

// Silence is the µ-law byte for a zero sample.
const Silence byte = 0xFF

const (
	ulawBias = 0x84
	ulawClip = 32635
)

var ulawTable [256]int16

func init() {
	for i := range ulawTable {
		ulawTable[i] = decode(byte(i))
	}
}

// Encode converts one 16-bit linear sample to G.711 µ-law.
func Encode(sample int16) byte {
	s := int32(sample)
	var sign byte
	if s < 0 {
		s, sign = -s, 0x80
	}
	if s > ulawClip {
		s = ulawClip
	}
	s += ulawBias
	exponent := byte(7)
	for mask := int32(0x4000); s&mask == 0 && exponent > 0; mask >>= 1 {
		exponent--
	}
	mantissa := byte(s>>(exponent+3)) & 0x0F
	return ^(sign | exponent<<4 | mantissa)
}

func decode(u byte) int16 {
	u = ^u
	exponent := (u >> 4) & 0x07
	s := ((int32(u&0x0F) << 3) + ulawBias) << exponent
	s -= ulawBias
	if u&0x80 != 0 {
		s = -s
	}
	return int16(s)
}

// Decode converts one µ-law byte to a 16-bit linear sample.
func Decode(u byte) int16 { return ulawTable[u] }

// EncodeFrame µ-law-encodes pcm into dst (len(dst) ≥ len(pcm)) and returns the bytes written.
func EncodeFrame(dst []byte, pcm []int16) int {
	for i, s := range pcm {
		dst[i] = Encode(s)
	}
	return len(pcm)
}

// DecodeFrame appends the linear samples of a µ-law payload to dst.
func DecodeFrame(dst []int16, ulaw []byte) []int16 {
	for _, u := range ulaw {
		dst = append(dst, ulawTable[u])
	}
	return dst
}

// Sine generates a phase-continuous sine tone at SampleRate.
type Sine struct {
	step, phase, amp float64
}

// NewSine returns a generator of freq Hz at amplitude (0–1 of full scale).
func NewSine(freq, amplitude float64) *Sine {
	return &Sine{step: 2 * math.Pi * freq / SampleRate, amp: amplitude * 32767}
}

// Frame fills dst with the next len(dst) samples of the tone, µ-law-encoded.
func (g *Sine) Frame(dst []byte) {
	for i := range dst {
		dst[i] = Encode(int16(g.amp * math.Sin(g.phase)))
		g.phase += g.step
		if g.phase > 2*math.Pi {
			g.phase -= 2 * math.Pi
		}
	}
}

// Strength returns the share (0–1) of the signal's energy at freq Hz, by the Goertzel
// algorithm. A clean tone at freq measures close to 1, silence 0.
func Strength(samples []int16, freq float64) float64 {
	n := len(samples)
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, x := range samples {
		v := float64(x)
		energy += v * v
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(n) * energy)
}

// Dominant scans lo–hi Hz in steps of step Hz and returns the frequency with the most energy and
// its Strength.
func Dominant(samples []int16, lo, hi, step float64) (freq, strength float64) {
	for f := lo; f <= hi; f += step {
		if s := Strength(samples, f); s > strength {
			freq, strength = f, s
		}
	}
	return freq, strength
}
