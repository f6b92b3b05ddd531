package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/ats/ashby"
	"github.com/notekeeper/notekeeper/appliance/ats/greenhouse"
	"github.com/notekeeper/notekeeper/appliance/ats/lever"
	"github.com/notekeeper/notekeeper/appliance/ats/rest"
	"github.com/notekeeper/notekeeper/appliance/check"
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

// checkATS probes the configured ATS with one authenticated read that also
// proves the acting user exists: refused credentials (or a missing user) are
// a problem, a host that cannot be reached or answers 5xx a warning.
func checkATS(cfg config.Config) (check.Finding, bool) {
	if !cfg.ATS.Enabled {
		return check.Finding{}, false
	}
	conn, err := atsConnector(cfg.ATS)
	if err != nil {
		return check.Problem("%v", err), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = conn.Probe(ctx)
	var perm *apperr.PermanentError
	var se *outbound.StatusError
	switch {
	case err == nil:
		return check.Finding{}, false
	case errors.As(err, &se) && se.Unauthorized():
		return check.Problem("ats (%s): the credentials were refused: %v", conn.Name(), err), true
	case errors.As(err, &perm):
		return check.Problem("ats (%s): %v", conn.Name(), err), true
	}
	return check.Warning("ats (%s): not reachable now: %v", conn.Name(), err), true
}
