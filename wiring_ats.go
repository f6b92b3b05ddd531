package main

import (
	"fmt"

	"github.com/notekeeper/notekeeper/appliance/ats/ashby"
	"github.com/notekeeper/notekeeper/appliance/ats/greenhouse"
	"github.com/notekeeper/notekeeper/appliance/ats/lever"
	"github.com/notekeeper/notekeeper/appliance/ats/rest"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/config"
)

// atsConnector is the connector [ats] type names (SPEC §3, §6.1); base_url
// "" leaves a vendor connector on the vendor's API.
func atsConnector(a config.ATS) (connector.ATS, error) {
	switch a.Type {
	case "", "rest":
		return &rest.ATS{API: &outbound.Client{BaseURL: a.BaseURL, APIKey: a.APIKey.Value()},
			InterviewsPath: a.InterviewsPath, RecordingsPath: a.RecordingsPath}, nil
	case "lever":
		return &lever.ATS{BaseURL: a.BaseURL, APIKey: a.APIKey.Value(), UserID: a.UserID}, nil
	case "ashby":
		return &ashby.ATS{BaseURL: a.BaseURL, APIKey: a.APIKey.Value(), UserID: a.UserID}, nil
	case "greenhouse":
		return &greenhouse.ATS{BaseURL: a.BaseURL, TokenURL: a.Greenhouse.TokenURL, ClientID: a.Greenhouse.ClientID,
			ClientSecret: a.Greenhouse.ClientSecret.Value(), UserID: a.UserID}, nil
	}
	return nil, fmt.Errorf("ats.type: unknown connector %q", a.Type)
}
