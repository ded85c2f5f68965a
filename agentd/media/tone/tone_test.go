package tone

import (
	"math"
	"testing"
)

func TestULawRoundTrip(t *testing.T) {
	// Every µ-law code decodes to a value that encodes back to the same code (0x7F and 0xFF
	// both mean zero; zero encodes to 0xFF).
	for i := range 256 {
		u := byte(i)
		got := Encode(Decode(u))
		if got != u && !(u == 0x7F && got == 0xFF) {
			t.Errorf("Encode(Decode(%#x)) = %#x", u, got)
		}
	}
	// Known values from G.711.
	for _, c := range []struct {
		in  int16
		out byte
	}{{0, 0xFF}, {-1, 0x7F}, {32767, 0x80}, {-32768, 0x00}, {1000, 0xCE}} {
		if got := Encode(c.in); got != c.out {
			t.Errorf("Encode(%d) = %#x, want %#x", c.in, got, c.out)
		}
	}
	// Quantisation error stays within the segment's step.
	for s := -32000; s <= 32000; s += 7 {
		d := Decode(Encode(int16(s)))
		if math.Abs(float64(int(d)-s)) > float64(abs(s))/16+8 {
			t.Fatalf("%d → %d", s, d)
		}
	}
	if Decode(Silence) != 0 {
		t.Error("Silence is not zero")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDetect(t *testing.T) {
	for _, freq := range []float64{440, 1000, 2600} {
		g := NewSine(freq, 0.5)
		frame := make([]byte, FrameSamples)
		var pcm []int16
		for range 10 {
			g.Frame(frame)
			pcm = DecodeFrame(pcm, frame)
		}
		f, s := Dominant(pcm, 100, 3900, 10)
		if f != freq || s < 0.9 {
			t.Errorf("tone %v Hz: dominant %v Hz strength %.3f", freq, f, s)
		}
		if other := Strength(pcm, freq+300); other > 0.05 {
			t.Errorf("tone %v Hz: strength at %v Hz is %.3f", freq, freq+300, other)
		}
	}
	if s := Strength(make([]int16, 1600), 440); s != 0 {
		t.Errorf("silence strength %v", s)
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	g := NewSine(1000, 0.5)
	frame := make([]byte, FrameSamples)
	for b.Loop() {
		g.Frame(frame)
	}
}
