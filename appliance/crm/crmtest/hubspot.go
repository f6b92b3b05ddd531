package crmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HubSpot is a stand-in for HubSpot's CRM API v3/v4 (private-app bearer
// token): contacts, companies, deals, meetings, tasks, their v4
// associations, custom properties, the search API with index lag, 409 on a
// duplicate contact, and HubSpot's error and rate-limit shapes
// (testdata/hubspot-*.json).
type HubSpot struct {
	base
	Token string
	// RateLimitInterval is sent as X-HubSpot-RateLimit-Interval-Milliseconds
	// with a 429 (HubSpot's window is 10 s; tests shorten it).
	RateLimitInterval time.Duration

	ids     ids
	objects map[string]map[string]*hsObject // object type → id → record
	props   map[string]bool                 // "meetings/notekeeper_id" → defined
}

type hsObject struct {
	id      string
	props   map[string]string
	assoc   map[string][]string // to-type → ids
	created time.Time
}

// NewHubSpot starts a HubSpot stand-in accepting token.
func NewHubSpot(token string) *HubSpot {
	h := &HubSpot{Token: token, RateLimitInterval: 200 * time.Millisecond, objects: map[string]map[string]*hsObject{}, props: map[string]bool{}}
	h.ids.n = 1000
	h.start(h)
	return h
}

func (h *HubSpot) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+h.Token
}

func (h *HubSpot) unauthorized(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 401, map[string]any{"status": "error", "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
		"correlationId": "0b5f7c2e-7d4a-4c1e-9d8e-2a1b3c4d5e6f", "category": "INVALID_AUTHENTICATION"})
}

func (h *HubSpot) fail(w http.ResponseWriter, status int) {
	if status == 429 {
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(int(h.RateLimitInterval/time.Millisecond)))
		w.Header().Set("X-HubSpot-RateLimit-Max", "100")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		w.Header().Set("X-HubSpot-RateLimit-Secondly", "10")
		w.Header().Set("X-HubSpot-RateLimit-Secondly-Remaining", "0")
		writeJSON(w, 429, map[string]any{"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
			"errorType": "RATE_LIMIT", "correlationId": "c0ffee00-0000-4000-8000-000000000429", "policyName": "TEN_SECONDLY_ROLLING"})
		return
	}
	writeJSON(w, status, map[string]any{"status": "error", "message": "internal error", "correlationId": "c0ffee00-0000-4000-8000-000000000500", "category": "INTERNAL_ERROR"})
}

func (h *HubSpot) store(typ string) map[string]*hsObject {
	if h.objects[typ] == nil {
		h.objects[typ] = map[string]*hsObject{}
	}
	return h.objects[typ]
}

func (h *HubSpot) add(typ string, props map[string]string, created time.Time) *hsObject {
	o := &hsObject{id: h.ids.next(""), props: props, assoc: map[string][]string{}, created: created}
	if o.props == nil {
		o.props = map[string]string{}
	}
	h.store(typ)[o.id] = o
	return o
}

func (h *HubSpot) link(fromType string, from *hsObject, toType, to string) {
	if !slices.Contains(from.assoc[toType], to) {
		from.assoc[toType] = append(from.assoc[toType], to)
	}
	if back := h.store(toType)[to]; back != nil && !slices.Contains(back.assoc[fromType], from.id) {
		back.assoc[fromType] = append(back.assoc[fromType], from.id)
	}
}

// AddContact seeds a contact with a company (found or made by name).
func (h *HubSpot) AddContact(email, name, company string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	first, last, _ := strings.Cut(name, " ")
	ct := h.add("contacts", map[string]string{"email": lower(email), "firstname": first, "lastname": last}, time.Time{})
	if company != "" {
		var co *hsObject
		for _, o := range h.store("companies") {
			if o.props["name"] == company {
				co = o
			}
		}
		if co == nil {
			co = h.add("companies", map[string]string{"name": company}, time.Time{})
		}
		h.link("contacts", ct, "companies", co.id)
	}
	return ct.id
}

// AddDeal seeds an open deal associated with contact.
func (h *HubSpot) AddDeal(contactID, name string) string {
	return h.addDeal(contactID, name, "appointmentscheduled")
}

// AddClosedDeal seeds a won deal, which must never be picked.
func (h *HubSpot) AddClosedDeal(contactID, name string) string {
	return h.addDeal(contactID, name, "closedwon")
}

func (h *HubSpot) addDeal(contactID, name, stage string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	closed := strconv.FormatBool(stage == "closedwon" || stage == "closedlost")
	d := h.add("deals", map[string]string{"dealname": name, "dealstage": stage, "hs_is_closed": closed,
		"hs_lastmodifieddate": time.Now().UTC().Format(time.RFC3339Nano)}, time.Time{})
	h.link("deals", d, "contacts", contactID)
	return d.id
}

// AddCalendarMeeting seeds a meeting as HubSpot's calendar sync logs it:
// hs_i_cal_uid set, no notekeeper marker.
func (h *HubSpot) AddCalendarMeeting(icalUID, title string, start time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.add("meetings", map[string]string{"hs_i_cal_uid": icalUID, "hs_meeting_title": title,
		"hs_meeting_start_time": start.UTC().Format(time.RFC3339), "hs_timestamp": start.UTC().Format(time.RFC3339),
		"hs_meeting_source": "BIDIRECTIONAL_SYNC"}, time.Time{}).id
}

// DefineMarker defines the notekeeper_id property on meetings and tasks, as
// an operator would by hand.
func (h *HubSpot) DefineMarker() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.props["meetings/notekeeper_id"], h.props["tasks/notekeeper_id"] = true, true
}

func (h *HubSpot) landed(typ string) []Landed {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Landed
	for _, o := range h.store(typ) {
		l := Landed{ID: o.id, Marker: o.props["notekeeper_id"], ContactIDs: append([]string(nil), o.assoc["contacts"]...)}
		if typ == "meetings" {
			l.Title, l.Body = o.props["hs_meeting_title"], o.props["hs_meeting_body"]
			l.Start, l.End = parseTime(o.props["hs_meeting_start_time"]), parseTime(o.props["hs_meeting_end_time"])
		} else {
			l.Title, l.Body = o.props["hs_task_subject"], o.props["hs_task_body"]
		}
		if ds := o.assoc["deals"]; len(ds) > 0 {
			l.DealID = ds[0]
		}
		if cs := o.assoc["companies"]; len(cs) > 0 {
			l.CompanyID = cs[0]
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Meetings returns the stored meetings objects.
func (h *HubSpot) Meetings() []Landed { return h.landed("meetings") }

// Tasks returns the stored tasks.
func (h *HubSpot) Tasks() []Landed { return h.landed("tasks") }

// ContactCount counts contacts.
func (h *HubSpot) ContactCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.store("contacts"))
}

// hsError writes HubSpot's Error schema.
func hsError(w http.ResponseWriter, status int, category, message string) {
	writeJSON(w, status, map[string]any{"status": "error", "message": message, "correlationId": "c0ffee00-0000-4000-8000-000000000400", "category": category})
}

func (h *HubSpot) public(typ string, o *hsObject, props []string) map[string]any {
	p := map[string]string{"hs_object_id": o.id}
	for _, k := range props {
		if v, ok := o.props[k]; ok {
			p[k] = v
		}
	}
	if props == nil {
		for k, v := range o.props {
			p[k] = v
		}
	}
	ts := o.created.UTC().Format(time.RFC3339Nano)
	return map[string]any{"id": o.id, "properties": p, "createdAt": ts, "updatedAt": ts, "archived": false}
}

// wantTypes is the association type each (from, to) pair must use.
var wantTypes = map[[2]string]int{
	{"meetings", "contacts"}: 200, {"meetings", "companies"}: 188, {"meetings", "deals"}: 212,
	{"tasks", "contacts"}: 204, {"tasks", "deals"}: 216,
}

func (h *HubSpot) route(w http.ResponseWriter, r *http.Request, body []byte) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == "GET" && len(parts) == 4 && parts[0] == "crm" && parts[1] == "v3" && parts[2] == "objects":
		h.mu.Lock()
		var res []map[string]any
		for _, o := range h.store(parts[3]) {
			res = append(res, h.public(parts[3], o, nil))
			break
		}
		h.mu.Unlock()
		writeJSON(w, 200, map[string]any{"results": res})
	case len(parts) == 5 && parts[1] == "v3" && parts[2] == "objects" && parts[4] == "search" && r.Method == "POST":
		h.search(w, parts[3], body)
	case len(parts) == 4 && parts[1] == "v3" && parts[2] == "objects" && r.Method == "POST":
		h.createObject(w, parts[3], body)
	case len(parts) == 5 && parts[1] == "v3" && parts[2] == "objects" && r.Method == "PATCH":
		h.patchObject(w, parts[3], parts[4], body)
	case len(parts) == 6 && parts[1] == "v3" && parts[2] == "objects" && parts[4] == "batch" && parts[5] == "read":
		h.batchRead(w, parts[3], body)
	case len(parts) == 7 && parts[1] == "v4" && parts[2] == "associations" && parts[5] == "batch" && parts[6] == "read":
		h.assocRead(w, parts[3], parts[4], body)
	case len(parts) == 9 && parts[1] == "v4" && parts[2] == "objects" && parts[5] == "associations" && parts[6] == "default" && r.Method == "PUT":
		h.mu.Lock()
		o := h.store(parts[3])[parts[4]]
		to := h.store(parts[7])[parts[8]]
		if o != nil && to != nil {
			h.link(parts[3], o, parts[7], parts[8])
		}
		h.mu.Unlock()
		if o == nil || to == nil {
			hsError(w, 404, "OBJECT_NOT_FOUND", "resource not found")
			return
		}
		writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": []map[string]any{{"fromObjectTypeId": parts[3], "fromObjectId": o.id, "toObjectTypeId": parts[7], "toObjectId": to.id}}})
	case len(parts) == 5 && parts[1] == "v3" && parts[2] == "properties" && r.Method == "GET":
		h.mu.Lock()
		ok := h.props[parts[3]+"/"+parts[4]]
		h.mu.Unlock()
		if !ok {
			hsError(w, 404, "OBJECT_NOT_FOUND", "Unable to find property "+parts[4])
			return
		}
		writeJSON(w, 200, map[string]any{"name": parts[4], "type": "string", "fieldType": "text"})
	case len(parts) == 4 && parts[1] == "v3" && parts[2] == "properties" && r.Method == "POST":
		var in struct {
			Name, Type, FieldType, GroupName string
		}
		json.Unmarshal(body, &in)
		if in.Name == "" || in.Type == "" || in.FieldType == "" || in.GroupName == "" {
			hsError(w, 400, "VALIDATION_ERROR", "name, label, type, fieldType and groupName are required")
			return
		}
		h.mu.Lock()
		h.props[parts[3]+"/"+in.Name] = true
		h.mu.Unlock()
		writeJSON(w, 201, map[string]any{"name": in.Name, "type": in.Type, "fieldType": in.FieldType, "groupName": in.GroupName})
	default:
		hsError(w, 404, "OBJECT_NOT_FOUND", "no route "+r.Method+" "+r.URL.Path)
	}
}

func (h *HubSpot) search(w http.ResponseWriter, typ string, body []byte) {
	var in struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName, Operator, Value string
				Values                        []string
			}
		}
		Properties []string
		Limit      int
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.FilterGroups) > 6 || in.Limit > 200 {
		hsError(w, 400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
		return
	}
	h.mu.Lock()
	var res []map[string]any
	for _, id := range sortedIDs(h.store(typ)) {
		o := h.store(typ)[id]
		if !h.visible(o.created) {
			continue
		}
		match := false
		for _, g := range in.FilterGroups { // OR of ANDs
			all := len(g.Filters) > 0
			for _, f := range g.Filters {
				v := o.props[f.PropertyName]
				switch f.Operator {
				case "EQ":
					all = all && strings.EqualFold(v, f.Value) && v != ""
				case "IN":
					all = all && slices.Contains(f.Values, v) // IN wants lower-case values
				default:
					all = false
				}
			}
			match = match || all
		}
		if match {
			res = append(res, h.public(typ, o, in.Properties))
		}
	}
	h.mu.Unlock()
	writeJSON(w, 200, map[string]any{"total": len(res), "results": res})
}

func sortedIDs(m map[string]*hsObject) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (h *HubSpot) createObject(w http.ResponseWriter, typ string, body []byte) {
	var in struct {
		Properties   map[string]string `json:"properties"`
		Associations []struct {
			To struct {
				ID string `json:"id"`
			} `json:"to"`
			Types []struct {
				AssociationCategory string `json:"associationCategory"`
				AssociationTypeID   int    `json:"associationTypeId"`
			} `json:"types"`
		} `json:"associations"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Properties == nil {
		hsError(w, 400, "VALIDATION_ERROR", "Invalid input JSON: properties are required")
		return
	}
	h.mu.Lock()
	if typ == "contacts" {
		for _, o := range h.store("contacts") {
			if o.props["email"] == lower(in.Properties["email"]) {
				h.mu.Unlock()
				hsError(w, 409, "CONFLICT", "Contact already exists. Existing ID: "+o.id)
				return
			}
		}
	}
	if typ == "meetings" || typ == "tasks" {
		if in.Associations == nil {
			h.mu.Unlock()
			hsError(w, 400, "VALIDATION_ERROR", "Invalid input JSON: associations is required")
			return
		}
		if in.Properties["hs_timestamp"] == "" {
			h.mu.Unlock()
			hsError(w, 400, "VALIDATION_ERROR", "Property values were not valid: hs_timestamp is required")
			return
		}
		for k := range in.Properties {
			if strings.HasPrefix(k, "notekeeper") && !h.props[typ+"/"+k] {
				h.mu.Unlock()
				hsError(w, 400, "VALIDATION_ERROR", fmt.Sprintf(`Property values were not valid: [{"isValid":false,"message":"Property \"%s\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"%s"}]`, k, k))
				return
			}
		}
		for _, a := range in.Associations {
			to := h.typeOf(a.To.ID)
			if len(a.Types) != 1 || a.Types[0].AssociationCategory != "HUBSPOT_DEFINED" || wantTypes[[2]string{typ, to}] != a.Types[0].AssociationTypeID {
				h.mu.Unlock()
				hsError(w, 400, "VALIDATION_ERROR", fmt.Sprintf("invalid association type %v from %s to %s %s", a.Types, typ, to, a.To.ID))
				return
			}
		}
	}
	h.mu.Unlock()
	h.create(w, 201, func() any {
		p := map[string]string{}
		for k, v := range in.Properties {
			p[k] = v
		}
		if typ == "contacts" {
			p["email"] = lower(p["email"])
		}
		o := h.add(typ, p, h.clock())
		for _, a := range in.Associations {
			h.link(typ, o, h.typeOf(a.To.ID), a.To.ID)
		}
		return h.public(typ, o, nil)
	})
}

// typeOf finds which object type holds id (IDs are unique across types in
// the stand-in).
func (h *HubSpot) typeOf(id string) string {
	for typ, m := range h.objects {
		if _, ok := m[id]; ok {
			return typ
		}
	}
	return ""
}

func (h *HubSpot) patchObject(w http.ResponseWriter, typ, id string, body []byte) {
	var in struct {
		Properties map[string]string `json:"properties"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		hsError(w, 400, "VALIDATION_ERROR", "Invalid input JSON")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.store(typ)[id]
	if o == nil {
		hsError(w, 404, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	for k, v := range in.Properties {
		if strings.HasPrefix(k, "notekeeper") && !h.props[typ+"/"+k] {
			hsError(w, 400, "VALIDATION_ERROR", "Property values were not valid: PROPERTY_DOESNT_EXIST "+k)
			return
		}
		o.props[k] = v
	}
	writeJSON(w, 200, h.public(typ, o, nil))
}

func (h *HubSpot) batchRead(w http.ResponseWriter, typ string, body []byte) {
	var in struct {
		Properties []string
		Inputs     []struct{ ID string }
	}
	json.Unmarshal(body, &in)
	h.mu.Lock()
	defer h.mu.Unlock()
	var res []map[string]any
	for _, i := range in.Inputs {
		if o := h.store(typ)[i.ID]; o != nil {
			res = append(res, h.public(typ, o, in.Properties))
		}
	}
	writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": res})
}

func (h *HubSpot) assocRead(w http.ResponseWriter, from, to string, body []byte) {
	var in struct {
		Inputs []struct{ ID string }
	}
	json.Unmarshal(body, &in)
	h.mu.Lock()
	defer h.mu.Unlock()
	var res []map[string]any
	for _, i := range in.Inputs {
		o := h.store(from)[i.ID]
		if o == nil || len(o.assoc[to]) == 0 {
			continue
		}
		var tos []map[string]any
		for _, t := range o.assoc[to] {
			n, _ := strconv.ParseInt(t, 10, 64)
			tos = append(tos, map[string]any{"toObjectId": n, "associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": nil}}})
		}
		res = append(res, map[string]any{"from": map[string]string{"id": o.id}, "to": tos})
	}
	writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": res})
}
