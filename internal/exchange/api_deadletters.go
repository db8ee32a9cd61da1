package exchange

import (
	"fmt"
	"net/http"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The dead letters' routes, for the exchange's operators: reading them
// needs read on messages; resending update, discarding delete (the
// administrator role, authz's grants table). A dead letter classified
// above the caller's clearance is left out of the list and answers 404.

// deadLetterRoutes registers the API and the monitoring page's forms.
func (h *Handler) deadLetterRoutes(rt *web.Router) {
	read, resend, discard := web.Staff(authz.KindMessage, authz.Read), web.Staff(authz.KindMessage, authz.Update), web.Staff(authz.KindMessage, authz.Delete)
	rt.HandleFunc("GET /api/v1/exchange/dead-letters", read, h.apiDeadLetters)
	rt.HandleFunc("POST /api/v1/exchange/dead-letters/{id}/resend", resend, h.settle(authz.Update, false))
	rt.HandleFunc("DELETE /api/v1/exchange/dead-letters/{id}", discard, h.settle(authz.Delete, false))
	rt.HandleFunc("POST /console/exchange/dead-letters/{id}/resend", resend, h.settle(authz.Update, true))
	rt.HandleFunc("POST /console/exchange/dead-letters/{id}/discard", discard, h.settle(authz.Delete, true))
}

// visible keeps the dead letters s may read (no read up).
func visible(s authz.Subject, dls []DeadLetter) []DeadLetter {
	out := dls[:0]
	for _, d := range dls {
		if dec, _ := authz.Decide(s, authz.Read, authz.Resource{Kind: authz.KindMessage, Level: d.Level}); dec == authz.Allowed {
			out = append(out, d)
		}
	}
	return out
}

// deadLetterPage is the answer of GET /api/v1/exchange/dead-letters.
type deadLetterPage struct {
	Items []DeadLetter `json:"items"`
	// Next is the cursor to pass as "after"; empty when this page was
	// not full, so nothing follows.
	Next string `json:"next"`
}

func (h *Handler) apiDeadLetters(w http.ResponseWriter, r *http.Request) {
	after, limit, err := pageQuery(r, 100, MaxDeadLetterPage)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	dls, err := h.n.DeadLetters(r.Context(), after, limit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	page := deadLetterPage{Items: visible(web.SubjectFrom(r.Context()), dls)}
	if len(dls) == limit {
		page.Next = strconv.FormatInt(dls[len(dls)-1].Seq, 10)
	}
	web.JSON(w, r, http.StatusOK, page)
}

// settle resends (Update) or discards (Delete) the dead letter of the
// path, after authz allows it at the letter's level; a page's form is
// answered with a redirect to the monitoring page.
func (h *Handler) settle(a authz.Action, form bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := r.PathValue("id")
		d, err := h.n.DeadLetterByID(ctx, id)
		if err == nil {
			if dec, _ := authz.Decide(web.SubjectFrom(ctx), a, authz.Resource{Kind: authz.KindMessage, Level: d.Level}); dec == authz.Concealed {
				err = fmt.Errorf("exchange: no dead letter %s: %w", id, errs.ErrNotFound)
			} else if dec != authz.Allowed {
				err = fmt.Errorf("exchange: you may not %s dead letter %s: %w", a, id, errs.ErrForbidden)
			}
		}
		flash := "exchange.flash.resent"
		if err == nil && a == authz.Update {
			err = h.n.ResendDeadLetter(ctx, id)
		} else if err == nil {
			err, flash = h.n.DiscardDeadLetter(ctx, id), "exchange.flash.discarded"
		}
		switch {
		case err != nil:
			web.Error(w, r, err)
		case form:
			web.RedirectWithFlash(w, r, "/console/exchange/monitor", flash)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}
}
