package center

import (
	"testing"

	"kontakt/acd"
)

func TestCallbackNumber(t *testing.T) {
	for n, want := range map[string]bool{
		"+48600100200": true, "600100200": true, "48600100200123": true,
		"": false, "+": false, "60010020": false, "+4860010020012345": false, "600-100-200": false, "60010020#": false,
	} {
		if got := callbackNumber(n); got != want {
			t.Errorf("callbackNumber(%q) = %v, want %v", n, got, want)
		}
	}
	if got := spoken("+48600"); got != "+ 4 8 6 0 0" {
		t.Errorf("spoken: %q", got)
	}
}

// The ACD's reasons for withdrawing an offer become the protocol's: anything else would be
// refused by the protocol's validation and never reach the agent.
func TestCancelReason(t *testing.T) {
	for why, want := range map[string]string{acd.WhyNoAnswer: "timeout", acd.WhyAbandoned: "caller_hangup",
		acd.WhyAgentLeft: "rerouted", acd.WhyDeclined: "rerouted"} {
		if got := cancelReason(why); got != want {
			t.Errorf("cancelReason(%q) = %q, want %q", why, got, want)
		}
	}
}
