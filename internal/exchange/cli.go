package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"chancery/internal/errs"
)

const commandUsage = `usage:
  chancery exchange services [--kind rest|async] [--data DIR | --db URL]
  chancery exchange conf [--data DIR | --db URL]
  chancery exchange token issue CLIENT [--label TEXT] [--data DIR | --db URL]
  chancery exchange token revoke CLIENT [--data DIR | --db URL]
  chancery exchange send --node URL --token TOKEN --service ID [--level LEVEL] [--content-type TYPE] FILE
  chancery exchange inbox --node URL --token TOKEN [--after SEQ] [--limit N] [--ack]

services  list the services of the global configuration this node holds
conf      show the global configuration this node holds: serial, expiry, counts
token     issue a client token for a subsystem this node serves (printed once), or revoke its tokens
send      send FILE ("-" for standard input) as an asynchronous message through a running node;
          prints the message id
inbox     list the messages waiting for the token's subsystem, one JSON object per line;
          --ack acknowledges what was listed
CLIENT is a subsystem id such as VN/GOV/000.00.00.G12/procedures; the node and token of send and
inbox may also come from CHANCERY_NODE and CHANCERY_CLIENT_TOKEN.`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Open registers on fs the flags that locate a node's storage and
	// returns the function that, once fs is parsed, opens the node and
	// returns it with the function that closes it.
	Open   func(fs *flag.FlagSet) func(context.Context) (*Node, func() error, error)
	Stdout io.Writer
	Stderr io.Writer
	// Client makes send's and inbox's requests. If nil, a client with a
	// one-minute timeout is used.
	Client *http.Client
}

// Command runs `chancery exchange SUBCOMMAND ...`. A wrong command line
// returns an error wrapping errs.ErrInvalid that holds the usage; -h
// prints the usage and returns flag.ErrHelp.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"services": func(args []string) error { return servicesCommand(ctx, env, args) },
		"conf":     func(args []string) error { return confCommand(ctx, env, args) },
		"token":    func(args []string) error { return tokenCommand(ctx, env, args) },
		"send":     func(args []string) error { return sendCommand(ctx, env, args) },
		"inbox":    func(args []string) error { return inboxCommand(ctx, env, args) },
	})
}

func newFlags(name string, env CommandEnv) *flag.FlagSet {
	fs := flag.NewFlagSet("chancery exchange "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errs.Usage(commandUsage, "%v", err)
	}
	return nil
}

// withNode parses the flags and opens the node for fn.
func withNode(ctx context.Context, env CommandEnv, fs *flag.FlagSet, args []string, fn func(*Node) error) error {
	open := env.Open(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	n, closeFn, err := open(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	return fn(n)
}

func servicesCommand(ctx context.Context, env CommandEnv, args []string) error {
	fs := newFlags("services", env)
	kind := fs.String("kind", "", "only services of this kind: rest or async")
	return withNode(ctx, env, fs, args, func(n *Node) error {
		if *kind != "" && !ServiceKind(*kind).Valid() {
			return errs.Usage(commandUsage, "--kind %q: use rest or async", *kind)
		}
		conf, err := n.Conf()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVICE\tKIND\tMAX LEVEL\tTITLE")
		for _, s := range conf.Services {
			if *kind == "" || string(s.Kind) == *kind {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Kind, s.MaxLevel, s.Title)
			}
		}
		return tw.Flush()
	})
}

func confCommand(ctx context.Context, env CommandEnv, args []string) error {
	fs := newFlags("conf", env)
	return withNode(ctx, env, fs, args, func(n *Node) error {
		fmt.Fprintf(env.Stdout, "node %s (%s), JetStream domain %s\n", n.ID(), n.Role(), n.Domain())
		conf, err := n.Conf()
		if err != nil {
			return err
		}
		state := "valid"
		if conf.Expired(time.Now()) {
			state = "EXPIRED: this node refuses new messages until headquarters sends a fresh configuration"
		}
		fmt.Fprintf(env.Stdout, "global configuration %d of %s, issued %s, expires %s (%s)\n",
			conf.Serial, conf.Instance, conf.Issued.Format(time.RFC3339), conf.Expires.Format(time.RFC3339), state)
		fmt.Fprintf(env.Stdout, "%d members, %d subsystems, %d services, %d access rights, %d nodes, %d revoked\n",
			len(conf.Members), len(conf.Subsystems), len(conf.Services), len(conf.Rights), len(conf.Nodes), len(conf.Revoked))
		return nil
	})
}

func tokenCommand(ctx context.Context, env CommandEnv, args []string) error {
	if len(args) < 2 || (args[0] != "issue" && args[0] != "revoke") {
		return errs.Usage(commandUsage, "token takes issue or revoke and a subsystem id")
	}
	action, rawClient := args[0], args[1]
	fs := newFlags("token "+action, env)
	label := fs.String("label", "", "what the token is for, such as the system's host name")
	return withNode(ctx, env, fs, args[2:], func(n *Node) error {
		client, err := ParseClientID(rawClient)
		if err != nil {
			return err
		}
		if action == "revoke" {
			k, err := n.RevokeTokens(ctx, client)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "revoked %d token(s) of %s\n", k, client)
			return nil
		}
		token, err := n.IssueToken(ctx, client, *label)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, token)
		fmt.Fprintln(env.Stderr, "client token for", client, "(shown once; keep it secret)")
		return nil
	})
}

// remoteFlags are the flags of the commands that talk to a running node.
type remoteFlags struct{ node, token *string }

func addRemote(fs *flag.FlagSet) remoteFlags {
	return remoteFlags{
		node:  fs.String("node", os.Getenv("CHANCERY_NODE"), "the node's web address, such as http://127.0.0.1:8080 (env CHANCERY_NODE)"),
		token: fs.String("token", os.Getenv("CHANCERY_CLIENT_TOKEN"), "the subsystem's client token, chx_… (env CHANCERY_CLIENT_TOKEN)"),
	}
}

func (r remoteFlags) check() error {
	if *r.node == "" || *r.token == "" {
		return errs.Usage(commandUsage, "--node and --token are required")
	}
	if u, err := url.Parse(*r.node); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errs.Usage(commandUsage, "--node %q is not a web address such as http://127.0.0.1:8080", *r.node)
	}
	return nil
}

// do sends a request to the node and decodes a JSON answer into out,
// turning a problem+json answer into an error that carries its detail.
func (r remoteFlags) do(ctx context.Context, env CommandEnv, method, path string, header http.Header, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(*r.node, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+*r.token)
	client := env.Client
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("exchange: reach the node at %s: %w", *r.node, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("exchange: read the node's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var p struct{ Title, Detail string }
		if json.Unmarshal(data, &p) == nil && (p.Title != "" || p.Detail != "") {
			return fmt.Errorf("exchange: the node answered %s: %s", resp.Status, strings.TrimSpace(p.Title+": "+p.Detail))
		}
		return fmt.Errorf("exchange: the node answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("exchange: the node's answer is not JSON: %w", err)
	}
	return nil
}

func sendCommand(ctx context.Context, env CommandEnv, args []string) error {
	fs := newFlags("send", env)
	remote := addRemote(fs)
	service := fs.String("service", "", "the service id, such as VN/GOV/000.00.00.G12/consular/consular-report/v1")
	level := fs.String("level", "none", "classification: none, confidential, secret or top_secret")
	contentType := fs.String("content-type", "application/json", "the payload's media type")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := remote.check(); err != nil {
		return err
	}
	if *service == "" || fs.NArg() != 1 {
		return errs.Usage(commandUsage, "send needs --service and one FILE (or - for standard input)")
	}
	if _, err := ParseServiceID(*service); err != nil {
		return err
	}
	var (
		payload []byte
		err     error
	)
	if fs.Arg(0) == "-" {
		payload, err = io.ReadAll(os.Stdin)
	} else {
		payload, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		return fmt.Errorf("exchange: read the payload: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", *contentType)
	h.Set("X-Chancery-Service", *service)
	h.Set("X-Chancery-Level", *level)
	var out struct {
		ID string `json:"id"`
	}
	if err := remote.do(ctx, env, http.MethodPost, "/api/v1/exchange/messages", h, payload, &out); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, out.ID)
	return nil
}

func inboxCommand(ctx context.Context, env CommandEnv, args []string) error {
	fs := newFlags("inbox", env)
	remote := addRemote(fs)
	after := fs.Int64("after", 0, "list messages after this sequence number")
	limit := fs.Int("limit", 100, "at most this many messages")
	ack := fs.Bool("ack", false, "acknowledge the messages listed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := remote.check(); err != nil {
		return err
	}
	var page struct {
		Messages []json.RawMessage `json:"messages"`
	}
	q := url.Values{"after": {strconv.FormatInt(*after, 10)}, "limit": {strconv.Itoa(*limit)}}
	if err := remote.do(ctx, env, http.MethodGet, "/api/v1/exchange/inbox?"+q.Encode(), nil, nil, &page); err != nil {
		return err
	}
	ids := make([]string, 0, len(page.Messages))
	for _, m := range page.Messages {
		fmt.Fprintln(env.Stdout, string(m))
		var id struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m, &id) == nil && id.ID != "" {
			ids = append(ids, id.ID)
		}
	}
	if !*ack || len(ids) == 0 {
		return nil
	}
	body, _ := json.Marshal(map[string][]string{"ids": ids})
	h := http.Header{"Content-Type": {"application/json"}}
	if err := remote.do(ctx, env, http.MethodPost, "/api/v1/exchange/inbox/ack", h, body, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "acknowledged %d message(s)\n", len(ids))
	return nil
}
