package e2e

// The soak's vendor run: with -soak.crm hubspot the appliance delivers sales
// meetings through its HubSpot connector to the HubSpot stand-in of
// appliance/crm/crmtest instead of the rest contract's stand-in, while the
// fault phase throws 429s (with HubSpot's rate-limit headers), 503s and
// creates whose answer is lost at it, on top of the soak's SIGKILLs. The
// invariant is the same: exactly one HubSpot meeting per sales meeting.

import (
	"flag"
	"time"

	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
)

var soakCRMType = flag.String("soak.crm", "rest", `the CRM connector the soak delivers through: "rest" or "hubspot" (its stand-in)`)

// soakHubSpotToken is the private-app token the stand-in accepts.
const soakHubSpotToken = "pat-soak"

// openHubSpot starts the HubSpot stand-in knowing every meeting's
// customer, each with an open deal, and its fault injector.
func (s *soak) openHubSpot(meetings []*soakMeeting, dice *soakDice) {
	hs := crmtest.NewHubSpot(soakHubSpotToken)
	hs.RateLimitInterval = 200 * time.Millisecond
	hs.Knobs().SetLag(time.Second)
	seen := map[string]bool{}
	for _, m := range meetings {
		if m.crm() && !seen[m.Customer] {
			seen[m.Customer] = true
			hs.AddDeal(hs.AddContact(m.Customer, "Customer "+m.ID, "Customer "+m.ID), "Deal "+m.ID)
		}
	}
	s.hubspot = hs
	go func() {
		for !s.faults.calm.Load() {
			time.Sleep(time.Duration(100+dice.intn(400)) * time.Millisecond)
			switch k := s.hubspot.Knobs(); {
			case dice.chance(0.2):
				k.FailNext(1+dice.intn(3), 429)
				s.faults.add("hubspot.429")
			case dice.chance(0.1):
				k.FailNext(1+dice.intn(3), 503)
				s.faults.add("hubspot.503")
			case dice.chance(0.1):
				k.CutNextCreate()
				s.faults.add("hubspot.lost_create_answer")
			}
		}
	}()
}

// crmTable is the [crm] table of the soak's config.
func (s *soak) crmTable() string {
	if s.hubspot != nil {
		return "[crm]\nenabled = true\ntype = \"hubspot\"\nbase_url = \"" + s.hubspot.URL() + "\"\napi_key = \"" + soakHubSpotToken + "\"\n"
	}
	return "[crm]\nenabled = true\nbase_url = \"" + s.crm.srv.URL + "\"\napi_key = \"soak-crm-key\"\n"
}

// crmCreates counts the CRM records per Notetaker ID, in whichever CRM the
// soak runs.
func (s *soak) crmCreates() map[string]int {
	out := map[string]int{}
	if s.hubspot != nil {
		for _, m := range s.hubspot.Meetings() {
			out[m.Marker]++
		}
		return out
	}
	s.crm.mu.Lock()
	defer s.crm.mu.Unlock()
	for k, v := range s.crm.creates {
		out[k] = v
	}
	return out
}

// crmActivity counts what the CRM stand-in has been asked to change.
func (s *soak) crmActivity() int {
	if s.hubspot != nil {
		return s.hubspot.Knobs().Requests()
	}
	s.crm.mu.Lock()
	defer s.crm.mu.Unlock()
	return len(s.crm.records) + s.crm.patches
}

// soakSummaryFile names the summary artifact: soak-summary.json, or
// soak-summary-hubspot.json for the vendor run.
func soakSummaryFile() string {
	if *soakCRMType == "rest" {
		return "soak-summary.json"
	}
	return "soak-summary-" + *soakCRMType + ".json"
}
