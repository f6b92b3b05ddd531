package nylas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Grant is one connected account of the application. GrantStatus is
// "valid" or "invalid" (expired: the user must re-authenticate).
type Grant struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	Provider    string `json:"provider"` // google, microsoft, imap, …
	GrantStatus string `json:"grant_status"`
	CreatedAt   int64  `json:"created_at"` // Unix seconds
}

// grantsPage is the page size asked of GET /v3/grants (Nylas' default is
// 10; it pages by offset, not by cursor).
const grantsPage = 100

// ListGrants returns every grant of the application (GET /v3/grants with the
// API key), following limit/offset until a short page.
//
// Errors: an *Error for a non-2xx answer once retries are spent (401 for a
// wrong API key); ctx's error when it ends first.
func (c *Client) ListGrants(ctx context.Context) ([]Grant, error) {
	var all []Grant
	for offset := 0; ; offset += grantsPage {
		q := url.Values{"limit": {strconv.Itoa(grantsPage)}, "offset": {strconv.Itoa(offset)}}
		raw, err := c.send(ctx, http.MethodGet, "/v3/grants", q, nil)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		var page struct {
			Data []Grant `json:"data"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("list grants: decode: %w", err)
		}
		all = append(all, page.Data...)
		if len(page.Data) < grantsPage {
			return all, nil
		}
	}
}
