// Package vendorhttp holds what the ATS vendor connectors share beyond
// package outbound (whose Client, Auth, Token and RetryAfter they use): the
// client they build, the vendors' list and ID shapes, and their search lag.
package vendorhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// Timeout bounds one vendor call.
const Timeout = 30 * time.Second

// NewClient is an outbound.Client on baseURL with auth whose requests go
// through rt (nil: the default transport), bounded by Timeout.
func NewClient(baseURL string, auth outbound.Auth, rt http.RoundTripper) *outbound.Client {
	return &outbound.Client{BaseURL: baseURL, Auth: auth, HTTP: &http.Client{Timeout: Timeout, Transport: rt}}
}

// List decodes a list answer that is a JSON array or an object holding one
// (under "data", "results" or any single array field) into out.
func List(raw json.RawMessage, out any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		return json.Unmarshal(raw, out)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	for _, k := range []string{"data", "results", "items"} {
		if v, ok := obj[k]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '[' {
			return json.Unmarshal(v, out)
		}
	}
	for _, v := range obj {
		if v = bytes.TrimSpace(v); len(v) > 0 && v[0] == '[' {
			return json.Unmarshal(v, out)
		}
	}
	if m, ok := obj["message"]; ok {
		return fmt.Errorf("answered %s instead of a list", m)
	}
	return errors.New("answer holds no list")
}

// ID reads an id answered as a JSON string or number.
func ID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// Num is id as a JSON number when it is one (Greenhouse IDs are integers),
// else as a string.
func Num(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

// Lag is d, or def when d is zero: a connector's SearchLag.
func Lag(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// JoinID joins the two IDs a vendor needs to address one interview (Lever:
// panel and interview; Ashby: schedule and event) into the one ID the
// delivery keeps; SplitID undoes it.
func JoinID(outer, inner string) string { return outer + "/" + inner }

// SplitID splits an ID made by JoinID.
func SplitID(id string) (outer, inner string) {
	outer, inner, _ = strings.Cut(id, "/")
	return outer, inner
}
