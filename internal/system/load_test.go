package system

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// load is the work under which the faults strike: clerks submit
// dossiers (each with a scanned document), an officer takes them up,
// missions send reports to headquarters and call the population service
// through it, and headquarters' consular system reads its inbox — all
// through the load balancer, but the missions' own calls, which go to
// their node.
type load struct {
	w    *world
	stop chan struct{}
	wg   sync.WaitGroup

	clerk, officer, inboxToken string
	client                     *http.Client

	mu        sync.Mutex
	dossiers  map[string][32]byte // acknowledged dossier → its document's SHA-256
	unknown   int                 // submissions whose outcome the client never learnt
	submitted []span              // successful submissions: when asked, when answered
	assigned  map[string]bool     // acknowledged assignments
	sent      map[string][]int    // mission code → acknowledged report numbers, in order
	sentAt    map[string]time.Time
	received  []report // headquarters' inbox, in its order
	syncOK    int
	syncFail  int
	errors    map[string]int

	// phase names the period the clients' answers are counted under:
	// "before any fault", then each fault from its strike until the
	// next one's (its recovery included).
	phase   string
	phases  []string
	answers map[string]map[int]map[string]int // phase → status (0: no answer) → what was asked → count
}

// beforeFaults is the first phase, in which no answer may be a 5xx.
const beforeFaults = "before any fault"

type span struct{ from, to time.Time }

// report is a mission's report as headquarters' inbox listed it.
type report struct {
	id, mission string
	n           int
	at          time.Time
}

func startLoad(w *world) *load {
	l := &load{w: w, stop: make(chan struct{}), client: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		dossiers: map[string][32]byte{}, assigned: map[string]bool{}, sent: map[string][]int{}, sentAt: map[string]time.Time{}, errors: map[string]int{},
		answers: map[string]map[int]map[string]int{}}
	l.during(beforeFaults)
	l.clerk = w.login("consular.clerk")
	l.officer = w.login("consular.officer")
	l.inboxToken = w.mustRun("exchange", "token", "issue", "VN/GOV/000.00.03.G12/consular", "--db", w.pg.url(), "--data", w.replicas[0].data)
	for range 2 {
		l.spawn(l.submitLoop)
	}
	l.spawn(l.officerLoop)
	l.spawn(l.inboxLoop)
	for _, m := range w.missions {
		l.spawn(func() { l.missionLoop(m) })
	}
	return l
}

// during starts the phase named phase: the answers from now on count
// under it.
func (l *load) during(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = phase
	l.phases = append(l.phases, phase)
	l.answers[phase] = map[int]map[string]int{}
}

// saw counts one answer to what the clients asked: its status, or 0 when
// none came (a cut connection, a timeout).
func (l *load) saw(what string, status int, err error) {
	if err != nil {
		status = 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	byWhat := l.answers[l.phase][status]
	if byWhat == nil {
		byWhat = map[string]int{}
		l.answers[l.phase][status] = byWhat
	}
	byWhat[what]++
}

// statuses says, per phase, how many answers of each status the clients
// saw (and to what, for any but 2xx), and lists what breaks the promise:
// a 500 in any phase (a dependency down is a 503, never an internal
// error), and any 5xx or missing answer before the first fault.
func (l *load) statuses() (report, broken []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, phase := range l.phases {
		byStatus := l.answers[phase]
		codes := make([]int, 0, len(byStatus))
		for c := range byStatus {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		var parts []string
		for _, c := range codes {
			n, whats := 0, make([]string, 0, len(byStatus[c]))
			for what, k := range byStatus[c] {
				n += k
				whats = append(whats, fmt.Sprintf("%s %d", what, k))
			}
			sort.Strings(whats)
			name := strconv.Itoa(c)
			if c == 0 {
				name = "no answer"
			}
			part := fmt.Sprintf("%s ×%d", name, n)
			if c/100 != 2 {
				part += " (" + strings.Join(whats, ", ") + ")"
			}
			parts = append(parts, part)
			if c == http.StatusInternalServerError || (phase == beforeFaults && (c == 0 || c >= 500)) {
				broken = append(broken, phase+": "+part)
			}
		}
		report = append(report, fmt.Sprintf("%-28s %s", phase+":", strings.Join(parts, ", ")))
	}
	return report, broken
}

func (l *load) spawn(f func()) {
	l.wg.Add(1)
	go func() { defer l.wg.Done(); f() }()
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// halt stops the clients (the inbox reader too).
func (l *load) halt() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) fail(what string, status int, body []byte, err error) {
	key := what
	if err != nil {
		key += ": " + err.Error()
		if len(key) > 120 {
			key = key[:120]
		}
	} else {
		key += fmt.Sprintf(": %d %.160s", status, body)
	}
	l.mu.Lock()
	l.errors[key]++
	l.mu.Unlock()
}

// pause waits d or until the load stops.
func (l *load) pause(d time.Duration) bool {
	select {
	case <-l.stop:
		return false
	case <-time.After(d):
		return true
	}
}

// dossierBody is a clerk's entry of a request for consular protection
// received at the counter, with a 16 KiB scan of random bytes.
func dossierBody() (string, []byte, [32]byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	form := map[string]any{
		"requester": map[string]any{"full_name": "Nguyễn Thị Lan", "phone": "+84 912 345 678", "email": "citizen@example.com"},
		"country":   "France", "location": "Paris", "situation": "lost_documents",
		"description": "Mất hộ chiếu ở ga tàu, cần giấy thông hành để về nước.", "consent": true,
	}
	d, _ := json.Marshal(map[string]any{"procedure_code": "1.900014", "agency_code": "000.00.03.G12", "channel": 1, "form": form})
	mw.WriteField("dossier", string(d))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="attachment.evidence"; filename="scan.pdf"`)
	h.Set("Content-Type", "application/pdf")
	part, _ := mw.CreatePart(h)
	scan := []byte("%PDF-1.7\n1 0 obj<</Length 0>>stream\n")
	noise := make([]byte, 16<<10)
	rand.Read(noise)
	scan = append(append(scan, noise...), "\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"...)
	part.Write(scan)
	mw.Close()
	return mw.FormDataContentType(), body.Bytes(), sha256.Sum256(scan)
}

func (l *load) submitLoop() {
	for !l.stopped() {
		ct, body, sum := dossierBody()
		from := time.Now()
		status, answer, err := do(l.client, http.MethodPost, l.w.lb.url+"/api/v1/dossiers", l.clerk, ct, bytes.NewReader(body))
		l.saw("submit", status, err)
		var d struct{ Code string }
		switch {
		case err == nil && status == http.StatusCreated && json.Unmarshal(answer, &d) == nil && d.Code != "":
			l.mu.Lock()
			l.dossiers[d.Code] = sum
			l.submitted = append(l.submitted, span{from, time.Now()})
			l.mu.Unlock()
		default:
			// A 5xx or a cut connection leaves the outcome unknown to
			// the client (the dossier may have been stored); a 4xx
			// stored nothing.
			if err != nil || status >= 500 {
				l.mu.Lock()
				l.unknown++
				l.mu.Unlock()
			}
			l.fail("submit", status, answer, err)
			l.pause(200 * time.Millisecond)
		}
	}
}

// officerLoop takes up the dossiers received, one by one.
func (l *load) officerLoop() {
	for l.pause(300 * time.Millisecond) {
		var code string
		l.mu.Lock()
		for c := range l.dossiers {
			if !l.assigned[c] {
				code = c
				break
			}
		}
		l.mu.Unlock()
		if code == "" {
			continue
		}
		// The version read makes a retry safe: an assignment whose
		// answer was lost is refused (409) the second time, not repeated.
		status, answer, err := do(l.client, http.MethodGet, l.w.lb.url+"/api/v1/dossiers/"+code, l.officer, "", nil)
		l.saw("read", status, err)
		var d struct {
			Version int `json:"version"`
			Status  int `json:"status"`
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(answer, &d) != nil {
			l.fail("read for assign", status, answer, err)
			continue
		}
		if d.Status != 2 { // no longer "received": taken up by an earlier try
			l.mu.Lock()
			l.assigned[code] = true
			l.mu.Unlock()
			continue
		}
		status, answer, err = do(l.client, http.MethodPost, l.w.lb.url+"/api/v1/dossiers/"+code+"/actions", l.officer, "application/json",
			strings.NewReader(fmt.Sprintf(`{"action":"assign","version":%d}`, d.Version)))
		l.saw("assign", status, err)
		if err == nil && status == http.StatusOK {
			l.mu.Lock()
			l.assigned[code] = true
			l.mu.Unlock()
			continue
		}
		l.fail("assign", status, answer, err)
	}
}

// missionLoop sends numbered reports to the Consular Department every
// 400 ms and looks a citizen up through headquarters every 2 s.
func (l *load) missionLoop(m *mission) {
	n := 0
	tick := 0
	for l.pause(400 * time.Millisecond) {
		tick++
		if tick%5 == 0 {
			req, _ := http.NewRequest(http.MethodGet, m.base+"/exchange/v1/VN/GOV/000.00.00.G02/population/citizen-lookup/v1/v1/citizens/001188004215", nil)
			req.Header.Set("Authorization", "Bearer "+m.token)
			req.Header.Set("X-Road-UserId", "staff:system.test")
			req.Header.Set("X-Road-Issue", "system test")
			status, answer, err := doRequest(l.client, req)
			l.saw("mission lookup", status, err)
			l.mu.Lock()
			if err == nil && status == http.StatusOK {
				l.syncOK++
			} else {
				l.syncFail++
			}
			l.mu.Unlock()
			if err != nil || status != http.StatusOK {
				// By the problem's code and detail: which of the hops
				// (the mission's node, the link, headquarters' node, the
				// provider) could not answer.
				var p struct{ Code, Detail string }
				json.Unmarshal(answer, &p) //nolint:errcheck // an answer that is no problem document is quoted as it is
				if p.Code != "" {
					answer = []byte(p.Code + ": " + p.Detail)
				}
				l.fail("mission lookup", status, answer, err)
			}
		}
		payload := fmt.Sprintf(`{"mission":%q,"n":%d}`, m.code, n+1)
		req, _ := http.NewRequest(http.MethodPost, m.base+"/api/v1/exchange/messages", strings.NewReader(payload))
		req.Header.Set("Authorization", "Bearer "+m.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Chancery-Service", "VN/GOV/000.00.03.G12/consular/consular-report/v1")
		req.Header.Set("X-Chancery-Level", "confidential")
		resp, err := l.client.Do(req)
		if err != nil {
			l.saw("mission send", 0, err)
			l.fail("send", 0, nil, err)
			continue
		}
		l.saw("mission send", resp.StatusCode, nil)
		var out struct{ ID string }
		b := new(bytes.Buffer)
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 || json.Unmarshal(b.Bytes(), &out) != nil || out.ID == "" {
			// The node stored nothing (it answers only after its commit);
			// the same number goes again.
			l.fail("send", resp.StatusCode, b.Bytes(), nil)
			continue
		}
		n++
		l.mu.Lock()
		l.sent[m.code] = append(l.sent[m.code], n)
		l.sentAt[m.code+"#"+strconv.Itoa(n)] = time.Now()
		l.mu.Unlock()
	}
}

// inboxLoop reads headquarters' consular inbox through the load
// balancer and acknowledges what it read.
func (l *load) inboxLoop() {
	for {
		got := l.readInbox()
		if got == 0 && !l.pause(200*time.Millisecond) {
			return
		}
	}
}

// readInbox reads and acknowledges one page; it returns how many
// messages it read.
func (l *load) readInbox() int {
	status, body, err := do(l.client, http.MethodGet, l.w.lb.url+"/api/v1/exchange/inbox?limit=200", l.inboxToken, "", nil)
	l.saw("inbox", status, err)
	if err != nil || status != http.StatusOK {
		l.fail("inbox", status, body, err)
		return 0
	}
	var page struct {
		Messages []struct {
			ID      string `json:"id"`
			Sender  string `json:"sender"`
			Payload []byte `json:"payload"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		l.fail("inbox", status, body, err)
		return 0
	}
	if len(page.Messages) == 0 {
		return 0
	}
	var ids []string
	now := time.Now()
	var got []report
	for _, m := range page.Messages {
		var p struct {
			Mission string
			N       int
		}
		json.Unmarshal(m.Payload, &p)
		got = append(got, report{id: m.ID, mission: p.Mission, n: p.N, at: now})
		ids = append(ids, m.ID)
	}
	ack, _ := json.Marshal(map[string][]string{"ids": ids})
	status, body, err = do(l.client, http.MethodPost, l.w.lb.url+"/api/v1/exchange/inbox/ack", l.inboxToken, "application/json", bytes.NewReader(ack))
	l.saw("inbox ack", status, err)
	if err != nil || status != http.StatusOK {
		// Not acknowledged: they are listed again.
		l.fail("inbox ack", status, body, err)
		return 0
	}
	l.mu.Lock()
	l.received = append(l.received, got...)
	l.mu.Unlock()
	return len(got)
}

// firstSuccessAfter is when the first dossier submission asked at or
// after t was answered, and how long after t.
func (l *load) firstSuccessAfter(t time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	best := time.Time{}
	for _, s := range l.submitted {
		if !s.from.Before(t) && (best.IsZero() || s.to.Before(best)) {
			best = s.to
		}
	}
	if best.IsZero() {
		return 0, false
	}
	return best.Sub(t), true
}

// delivered reports whether every report acknowledged before t has
// reached headquarters' inbox, and what is missing.
func (l *load) delivered(t time.Time) (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range l.received {
		seen[r.mission+"#"+strconv.Itoa(r.n)] = true
	}
	missing := 0
	example := ""
	for key, at := range l.sentAt {
		if at.Before(t) && !seen[key] {
			missing++
			example = key
		}
	}
	return missing == 0, fmt.Sprintf("%d reports missing (such as %s)", missing, example)
}

// errorSummary lists the clients' failures, most frequent first.
func (l *load) errorSummary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range l.errors {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	var b strings.Builder
	for i, e := range all {
		if i == 12 {
			break
		}
		fmt.Fprintf(&b, "\n  %5d × %s", e.n, e.k)
	}
	return b.String()
}
