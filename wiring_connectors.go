package main

// The CRM and ATS connectors the [crm] and [ats] tables name.

import (
	"fmt"
	"log/slog"

	"github.com/notekeeper/notekeeper/appliance/ats/ashby"
	"github.com/notekeeper/notekeeper/appliance/ats/greenhouse"
	"github.com/notekeeper/notekeeper/appliance/ats/lever"
	atsrest "github.com/notekeeper/notekeeper/appliance/ats/rest"
	"github.com/notekeeper/notekeeper/appliance/connector"
	closecrm "github.com/notekeeper/notekeeper/appliance/crm/close"
	"github.com/notekeeper/notekeeper/appliance/crm/hubspot"
	"github.com/notekeeper/notekeeper/appliance/crm/pipedrive"
	"github.com/notekeeper/notekeeper/appliance/crm/rest"
	"github.com/notekeeper/notekeeper/appliance/crm/salesforce"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/config"
)

// crmConnector builds the connector [crm] type names. base_url "" leaves
// a vendor connector on the vendor's API; salesforce finds its instance
// through [crm.salesforce] login_url.
func crmConnector(c config.CRM, logger *slog.Logger) connector.CRM {
	switch c.Type {
	case "hubspot":
		return &hubspot.Client{BaseURL: c.BaseURL, Token: c.APIKey.Value()}
	case "pipedrive":
		return &pipedrive.Client{BaseURL: c.BaseURL, APIToken: c.APIKey.Value()}
	case "salesforce":
		s := c.Salesforce
		return &salesforce.Client{LoginURL: s.LoginURL, ClientID: s.ClientID, ClientSecret: s.ClientSecret.Value(),
			APIVersion: s.APIVersion, Logger: logger}
	case "close":
		return &closecrm.Client{BaseURL: c.BaseURL, APIKey: c.APIKey.Value()}
	default:
		return &rest.Connector{API: &outbound.Client{BaseURL: c.BaseURL, APIKey: c.APIKey.Value()},
			ContactsSearchPath: c.ContactsSearchPath, MeetingsPath: c.MeetingsPath}
	}
}

// atsConnector is the connector [ats] type names (docs/configuration.md,
// docs/connectors.md); base_url
// "" leaves a vendor connector on the vendor's API.
func atsConnector(a config.ATS) (connector.ATS, error) {
	switch a.Type {
	case "", "rest":
		return &atsrest.ATS{API: &outbound.Client{BaseURL: a.BaseURL, APIKey: a.APIKey.Value()},
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
