package crmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// covers reports where answer lacks a key of sample, or holds a value of
// another JSON kind (a string ID where the vendor sends a number).
func covers(path string, sample, answer any) []string {
	switch s := sample.(type) {
	case map[string]any:
		a, ok := answer.(map[string]any)
		if !ok {
			return []string{path + ": not an object"}
		}
		var out []string
		for k, v := range s {
			av, ok := a[k]
			if !ok {
				out = append(out, path+"."+k+": missing")
				continue
			}
			out = append(out, covers(path+"."+k, v, av)...)
		}
		return out
	case []any:
		a, ok := answer.([]any)
		if !ok {
			return []string{path + ": not an array"}
		}
		if len(s) > 0 && len(a) > 0 {
			return covers(path+"[0]", s[0], a[0])
		}
		return nil
	case nil:
		return nil // null in the sample: any kind
	default:
		if answer != nil && fmt.Sprintf("%T", s) != fmt.Sprintf("%T", answer) {
			return []string{fmt.Sprintf("%s: %T, the vendor sends %T", path, answer, s)}
		}
		return nil
	}
}

type call struct {
	method, path, body string
	header             map[string]string
}

func (c call) do(t *testing.T, base string) any {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, _ := http.NewRequest(c.method, base+c.path, body)
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if strings.HasPrefix(c.body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", c.method, c.path, resp.StatusCode, err)
	}
	return v
}

func TestStandInsAnswerDocumentedShapes(t *testing.T) {
	hs := NewHubSpot("tok")
	defer hs.Close()
	jo := hs.AddContact("a@x.com", "Jo Park", "Acme")
	hs.AddDeal(jo, "Renewal")
	hsAuth := map[string]string{"Authorization": "Bearer tok"}

	pd := NewPipedrive("tok")
	defer pd.Close()
	pdJo := pd.AddContact("a@x.com", "Jo Park", "Acme")
	pdAuth := map[string]string{"x-api-token": "tok"}

	sf := NewSalesforce("cid", "secret")
	defer sf.Close()
	sf.AddContact("a@x.com", "Jo Park", "Acme")
	var token string

	cl := NewClose("key")
	defer cl.Close()
	clJo := cl.AddContact("a@x.com", "Jo Park", "Acme")
	clAuth := map[string]string{"Authorization": "Basic a2V5Og=="} // "key:"

	cases := []struct {
		sample string
		base   func() string
		before func()
		call   func() call
	}{
		{"hubspot-search-contacts.json", hs.URL, nil, func() call {
			return call{"POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[{"filters":[{"propertyName":"email","operator":"IN","values":["a@x.com"]}]}],"properties":["email","firstname","lastname"],"limit":1}`, hsAuth}
		}},
		{"hubspot-assoc-batch-read.json", hs.URL, nil, func() call {
			return call{"POST", "/crm/v4/associations/contacts/deals/batch/read", `{"inputs":[{"id":"` + jo + `"}]}`, hsAuth}
		}},
		{"hubspot-meeting-created.json", hs.URL, nil, func() call {
			return call{"POST", "/crm/v3/objects/meetings", `{"properties":{"hs_timestamp":"2026-05-04T15:00:00Z","hs_meeting_title":"Acme – discovery"},"associations":[]}`, hsAuth}
		}},
		{"hubspot-contact-exists.json", hs.URL, nil, func() call {
			return call{"POST", "/crm/v3/objects/contacts", `{"properties":{"email":"a@x.com"}}`, hsAuth}
		}},
		{"hubspot-rate-limit.json", hs.URL, func() { hs.Knobs().FailNext(1, 429) }, func() call {
			return call{"GET", "/crm/v3/objects/contacts?limit=1", "", hsAuth}
		}},
		{"pipedrive-persons-search.json", pd.URL, nil, func() call {
			return call{"GET", "/api/v2/persons/search?term=a%40x.com&fields=email&exact_match=true", "", pdAuth}
		}},
		{"pipedrive-activity-created.json", pd.URL, nil, func() call {
			return call{"POST", "/api/v2/activities", `{"subject":"Acme – discovery","type":"meeting","done":true,"due_date":"2026-05-04","due_time":"15:00","duration":"00:45","deal_id":555,"participants":[{"person_id":` + pdJo + `,"primary":true}],"note":"<p>Summary…</p>"}`, pdAuth}
		}},
		{"pipedrive-error.json", pd.URL, nil, func() call { return call{"GET", "/api/v2/activities", "", map[string]string{"x-api-token": "wrong"}} }},
		{"salesforce-token.json", sf.URL, nil, func() call {
			return call{"POST", "/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"secret"}}.Encode(), nil}
		}},
		{"salesforce-query.json", sf.URL, func() {
			v := call{"POST", "/services/oauth2/token", "grant_type=client_credentials&client_id=cid&client_secret=secret", nil}.do(t, sf.URL())
			token = v.(map[string]any)["access_token"].(string)
		}, func() call {
			return call{"GET", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id, Email, AccountId FROM Contact WHERE Email IN ('a@x.com') ORDER BY CreatedDate"), "", map[string]string{"Authorization": "Bearer " + token}}
		}},
		{"salesforce-created.json", sf.URL, nil, func() call {
			return call{"POST", "/services/data/v62.0/sobjects/Event", `{"Subject":"Acme – discovery","StartDateTime":"2026-05-04T15:00:00Z","EndDateTime":"2026-05-04T15:45:00Z"}`, map[string]string{"Authorization": "Bearer " + token}}
		}},
		{"salesforce-errors.json", sf.URL, nil, func() call {
			return call{"GET", "/services/data/v62.0/query?q=x", "", map[string]string{"Authorization": "Bearer expired"}}
		}},
		{"close-lead-search.json", cl.URL, nil, func() call {
			return call{"GET", "/api/v1/lead/?query=" + url.QueryEscape(`email_address:"a@x.com"`), "", clAuth}
		}},
		{"close-note-created.json", cl.URL, nil, func() call {
			return call{"POST", "/api/v1/activity/note/", `{"lead_id":"` + cl.LeadOf(clJo) + `","contact_id":"` + clJo + `","title":"Acme – discovery","note_html":"<p>Summary…</p>","activity_at":"2026-05-04T15:00:00Z"}`, clAuth}
		}},
		{"close-rate-limit.json", cl.URL, func() { cl.Knobs().FailNext(1, 429) }, func() call { return call{"GET", "/api/v1/me/", "", clAuth} }},
	}
	for _, tc := range cases {
		t.Run(tc.sample, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.sample))
			if err != nil {
				t.Fatal(err)
			}
			var sample any
			if err := json.Unmarshal(raw, &sample); err != nil {
				t.Fatal(err)
			}
			if tc.before != nil {
				tc.before()
			}
			got := tc.call().do(t, tc.base())
			if problems := covers("$", sample, got); len(problems) > 0 {
				t.Fatalf("stand-in answer %v differs from the documented shape: %s", got, strings.Join(problems, "; "))
			}
		})
	}
}
