package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"chancery/internal/errs"
)

// Remote is another node's ledger reached over its HTTP API (see
// Handler), for a Witness running elsewhere: it implements Source.
//
// The node answers only staff whose roles grant reading audit events, so
// a Remote presents a bearer token of such an account (an auditor), or
// signs in with the account's username and password, and again whenever
// the session ends. Remote is safe for concurrent use.
type Remote struct {
	base   string // the node's base URL, without a trailing slash
	client *http.Client
	opts   RemoteOptions

	mu    sync.Mutex // guards token
	token string     // the bearer token in use
}

// RemoteOptions configure a Remote: either Token, or Username and
// Password.
type RemoteOptions struct {
	// Token is a bearer token from the node's POST /api/v1/auth/login.
	Token string
	// Username and Password sign in to the node, whose account must not
	// need a second factor (it has no clearance).
	Username, Password string
	// Client makes the requests. If nil, a client with a 30-second
	// timeout is used.
	Client *http.Client
}

// Limits on what a Remote reads from the node: a proof has at most two
// hashes per level of the tree.
const (
	maxProofResponse = 64 << 10
	maxLoginResponse = 16 << 10
)

// NewRemote returns the ledger served by the node at baseURL, such as
// "https://hq.mofa.gov.vn". It returns an error wrapping errs.ErrInvalid
// for a URL that is not http or https, or options without credentials.
func NewRemote(baseURL string, opts RemoteOptions) (*Remote, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: source %q must be the http:// or https:// address of a chancery node, such as https://hq.example:8080", errs.ErrInvalid, baseURL)
	}
	if opts.Token == "" && (opts.Username == "" || opts.Password == "") {
		return nil, fmt.Errorf("%w: reaching %s needs an auditor's bearer token, or username and password", errs.ErrInvalid, baseURL)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Remote{base: strings.TrimRight(u.String(), "/"), client: opts.Client, opts: opts, token: opts.Token}, nil
}

// Latest returns the node's newest signed checkpoint.
func (r *Remote) Latest(ctx context.Context) ([]byte, error) {
	return r.get(ctx, "/api/v1/audit/checkpoints/latest", "text/plain", maxCheckpointNote)
}

// Consistency returns the node's proof that the tree of size from is a
// prefix of the tree of size to.
func (r *Remote) Consistency(ctx context.Context, from, to uint64) ([][]byte, error) {
	path := "/api/v1/audit/proofs/consistency?from=" + strconv.FormatUint(from, 10) + "&to=" + strconv.FormatUint(to, 10)
	body, err := r.get(ctx, path, "application/json", maxProofResponse)
	if err != nil {
		return nil, err
	}
	var out consistencyProofJSON
	if err := json.Unmarshal(body, &out); err != nil || out.From != from || out.To != to {
		return nil, fmt.Errorf("audit: %s%s: the answer is not the consistency proof asked for", r.base, path)
	}
	return out.Proof, nil
}

// VerifierKey returns the note verifier key the node says its ledger
// signs with. A witness may trust it on first contact only; after that
// it must keep the key it has.
func (r *Remote) VerifierKey(ctx context.Context) (string, error) {
	body, err := r.get(ctx, "/api/v1/audit/checkpoints/latest", "application/json", maxCheckpointNote+4096)
	if err != nil {
		return "", err
	}
	var out checkpointJSON
	if err := json.Unmarshal(body, &out); err != nil || out.VerifierKey == "" {
		return "", fmt.Errorf("audit: %s did not send its ledger's verifier key", r.base)
	}
	return out.VerifierKey, nil
}

// get fetches path with the credentials, signing in again once if the
// session has ended, and returns the body of a 200 answer of at most
// limit bytes.
func (r *Remote) get(ctx context.Context, path, accept string, limit int64) ([]byte, error) {
	for renew := false; ; renew = true {
		token, err := r.credential(ctx, renew)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
		if err != nil {
			return nil, fmt.Errorf("audit: %s%s: %w", r.base, path, err)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", "Bearer "+token)
		status, body, err := r.do(req, limit)
		if err != nil {
			return nil, err
		}
		if status == http.StatusUnauthorized && !renew && r.opts.Username != "" {
			continue
		}
		if status != http.StatusOK {
			return nil, remoteError(req, status, body)
		}
		return body, nil
	}
}

// do sends req and reads at most limit bytes of the answer.
func (r *Remote) do(req *http.Request, limit int64) (int, []byte, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: audit: %s %s: %v", errs.ErrUnavailable, req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: audit: %s %s: read the answer: %v", errs.ErrUnavailable, req.Method, req.URL.Redacted(), err)
	}
	if int64(len(body)) > limit {
		return 0, nil, fmt.Errorf("audit: %s %s: the answer is larger than %d bytes", req.Method, req.URL.Redacted(), limit)
	}
	return resp.StatusCode, body, nil
}

// remoteError describes a refusal by the node, with its problem detail.
func remoteError(req *http.Request, status int, body []byte) error {
	var p struct {
		Detail string `json:"detail"`
	}
	detail := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &p) == nil && p.Detail != "" {
		detail = p.Detail
	}
	err := fmt.Errorf("audit: %s %s: %d %s: %.300s", req.Method, req.URL.Redacted(), status, http.StatusText(status), detail)
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%w (the token is wrong or its session has ended: sign in again)", err)
	case status == http.StatusForbidden:
		return fmt.Errorf("%w (the account needs the auditor role)", err)
	case status >= 500:
		return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	return err
}

// credential returns the bearer token to send, signing in first if there
// is none or, with renew, if the last one was refused.
func (r *Remote) credential(ctx context.Context, renew bool) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.token != "" && !renew || r.opts.Username == "" {
		return r.token, nil
	}
	token, err := r.login(ctx)
	if err != nil {
		return "", err
	}
	r.token = token
	return token, nil
}

// login signs in with the username and password and returns the token.
func (r *Remote) login(ctx context.Context) (string, error) {
	body, err := json.Marshal(map[string]string{"username": r.opts.Username, "password": r.opts.Password})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("audit: sign in to %s: %w", r.base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	status, answer, err := r.do(req, maxLoginResponse)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("sign in to %s as %s: %w", r.base, r.opts.Username, remoteError(req, status, answer))
	}
	var out struct {
		Token string `json:"token"`
		Stage string `json:"stage"`
	}
	switch {
	case json.Unmarshal(answer, &out) != nil || out.Token == "":
		return "", fmt.Errorf("audit: sign in to %s: the answer holds no token", r.base)
	case out.Stage != "" && out.Stage != "full":
		return "", errors.New("audit: sign in to " + r.base + " as " + r.opts.Username + ": the account must first finish signing in on the console (" + out.Stage + ")")
	}
	return out.Token, nil
}
