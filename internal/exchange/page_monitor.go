package exchange

import (
	"embed"
	"net/http"
	"time"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// monitorView is the monitoring page's view model.
type monitorView struct {
	Report *MonitorReport
	// Now is when the page was made, for "since" durations.
	Now time.Time
	// DeadLetters are the messages receivers refused, as far as the
	// viewer may read them (none unless authz grants read on messages).
	DeadLetters []DeadLetter
}

// Since returns how long ago t was, rounded to the second.
func (v monitorView) Since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return v.Now.Sub(t).Round(time.Second)
}

// monitorPage shows the node's links, backlog and per-service counts.
func (h *Handler) monitorPage(w http.ResponseWriter, r *http.Request) {
	rep, err := h.n.Monitor(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	v := monitorView{Report: rep, Now: h.n.now()}
	s := web.SubjectFrom(r.Context())
	if d, _ := authz.Decide(s, authz.Read, authz.Resource{Kind: authz.KindMessage}); d == authz.Allowed {
		dls, err := h.n.DeadLetters(r.Context(), 0, MaxDeadLetterPage)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		v.DeadLetters = visible(s, dls)
	}
	h.pages.Render(w, r, http.StatusOK, "monitor", web.View[monitorView]{
		Page: h.shell.Page(r, web.Console, "exchange.monitor.title"), Data: v})
}
