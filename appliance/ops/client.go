package ops

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/store"
)

// ErrNoDaemon: nothing answers on the operator socket (no socket file, or a
// stale one nobody listens on).
var ErrNoDaemon = errors.New("no daemon answers on the operator socket")

// maxResponseBytes bounds a JSON answer (a task list, a verify report).
const maxResponseBytes = 64 << 20

// Client talks to a daemon's Server over its unix socket. It implements
// Operator. Make one with Dial.
type Client struct {
	path string
	http *http.Client
}

// Dial connects to the socket at path to learn whether a daemon answers. It
// returns ErrNoDaemon when the file is missing or the connection is
// refused; any other failure (permission denied) is returned as is.
func Dial(path string) (*Client, error) {
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil, ErrNoDaemon
	} else if err != nil {
		return nil, fmt.Errorf("operator socket: %w", err)
	}
	conn.Close()
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &Client{path: path, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		},
	}}}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// do sends one request and returns the answer when it is 200; otherwise the
// server's error, wrapping store.ErrNotFound for a 404.
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://notekeeper"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("operator socket: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var eb errorBody
	json.NewDecoder(io.LimitReader(resp.Body, maxRequestBytes)).Decode(&eb)
	if eb.Error == "" {
		eb.Error = resp.Status
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w", eb.Error, store.ErrNotFound)
	}
	return nil, errors.New(eb.Error)
}

// call does a JSON request and decodes the JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
		return fmt.Errorf("operator socket: %s answer: %w", path, err)
	}
	return nil
}

// Status implements Operator.
func (c *Client) Status(ctx context.Context) (*status.Status, error) {
	var st status.Status
	return &st, c.call(ctx, "GET", "/v1/status", nil, &st)
}

// Events implements Operator: the events stream line by line.
func (c *Client) Events(ctx context.Context, f EventFilter, fn func(Event) error) error {
	q := url.Values{}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	resp, err := c.do(ctx, "GET", "/v1/events?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("operator socket: events: %w", err)
		}
		if e.ID == "" && e.Error != "" {
			return errors.New(e.Error) // the daemon failed mid-stream: an errorBody line
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("operator socket: events: %w", err)
	}
	return nil
}

// Tasks implements Operator.
func (c *Client) Tasks(ctx context.Context, failedOnly bool) ([]*store.Task, error) {
	var tasks []*store.Task
	return tasks, c.call(ctx, "GET", "/v1/tasks?failed="+strconv.FormatBool(failedOnly), nil, &tasks)
}

// Retry implements Operator.
func (c *Client) Retry(ctx context.Context, key string) error {
	return c.call(ctx, "POST", "/v1/retry", retryRequest{Key: key}, nil)
}

// RetryAllFailed implements Operator.
func (c *Client) RetryAllFailed(ctx context.Context) (int, error) {
	var res retryResponse
	err := c.call(ctx, "POST", "/v1/retry", retryRequest{AllFailed: true}, &res)
	return res.Retried, err
}

// Replay implements Operator.
func (c *Client) Replay(ctx context.Context, req ReplayRequest) (*ReplayResult, error) {
	var res ReplayResult
	return &res, c.call(ctx, "POST", "/v1/replay", req, &res)
}

// Verify implements Operator.
func (c *Client) Verify(ctx context.Context) (*VerifyReport, error) {
	var rep VerifyReport
	return &rep, c.call(ctx, "POST", "/v1/verify", struct{}{}, &rep)
}

// Backup implements Operator: it copies the daemon's backup stream to w. A
// stream the daemon aborted is an error (the tar.gz would be cut short).
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	resp, err := c.do(ctx, "GET", "/v1/backup", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("operator socket: backup: %w", err)
	}
	return nil
}

// Hold implements Operator.
func (c *Client) Hold(ctx context.Context, notetakerID string, on bool) error {
	return c.call(ctx, "POST", "/v1/hold", holdRequest{NotetakerID: notetakerID, Hold: on}, nil)
}

// RecordBot implements Operator.
func (c *Client) RecordBot(ctx context.Context, bot store.Notetaker) error {
	return c.call(ctx, "POST", "/v1/bots", bot, nil)
}
