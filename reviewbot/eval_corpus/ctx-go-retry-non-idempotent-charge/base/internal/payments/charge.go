package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// Charge creates a new charge on the provider for every call.
func (c *Client) Charge(ctx context.Context, customer string, cents int64) error {
	body, _ := json.Marshal(map[string]any{"customer": customer, "amount": cents})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/charges", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("charge: status %d", resp.StatusCode)
	}
	return nil
}
