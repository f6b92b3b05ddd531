package main

import (
	"log/slog"

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
