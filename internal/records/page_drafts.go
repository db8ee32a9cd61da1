package records

import (
	"net/http"
	"slices"

	"chancery/internal/authz"
	"chancery/internal/web"
)

// The list of the outgoing documents on their way (drafts, approved,
// signed, and the latest issued), with those awaiting the viewer's review
// first: where the drafting pages are reached from.

const consoleDraftsPath = "/console/documents/drafts"

// draftRow is an outgoing document as the list shows it.
type draftRow struct {
	Href, Subject, Number, Status, Updated string
	Level                                  levelBadge
	Mine                                   bool
}

// draftTable is a table of the list, with its column heads.
type draftTable struct {
	Heads []string
	Rows  []draftRow
}

// draftsData is the list's page.
type draftsData struct {
	Awaiting, Others draftTable
}

func (h *Handler) consoleDrafts(w http.ResponseWriter, r *http.Request) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	p := h.shell.Page(r, web.Console, "records.drafting.list.title")
	mine, err := pendingReviewsOf(ctx, h.svc.db, sub.ID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var heads []string
	for _, k := range []string{"classification", "subject", "number", "status", "updated"} {
		heads = append(heads, p.T("records.drafting.list."+k))
	}
	data := draftsData{Awaiting: draftTable{Heads: heads}, Others: draftTable{Heads: heads}}
	for _, st := range []Status{StatusDraft, StatusApproved, StatusSigned, StatusIssued, StatusRecalled} {
		limit := MaxLimit
		if st == StatusIssued || st == StatusRecalled {
			limit = 20 // the latest: the register lists them all
		}
		page, err := h.svc.Search(ctx, sub, Query{Direction: Outgoing, Status: st, Limit: limit})
		if err != nil {
			web.Error(w, r, err)
			return
		}
		for _, d := range page.Items {
			row := draftRow{Href: consoleDraftingPath(d.ID), Subject: d.Subject, Number: d.Number, Status: p.T("records.drafting.status." + string(d.Status)),
				Updated: web.ShowTime(d.UpdatedAt), Level: badgeOf(p, d.Classification), Mine: slices.Contains(mine, d.ID)}
			if row.Mine {
				data.Awaiting.Rows = append(data.Awaiting.Rows, row)
			} else {
				data.Others.Rows = append(data.Others.Rows, row)
			}
		}
	}
	h.pages.Render(w, r, http.StatusOK, "console_drafts", web.View[draftsData]{Page: p, Data: data})
}

// registerDraftsList adds the list; the search inside it shows each
// viewer only what they may know of.
func (h *Handler) registerDraftsList(rt *web.Router) {
	rt.HandleFunc("GET "+consoleDraftsPath, web.Staff(authz.KindDocument, authz.Read), h.consoleDrafts)
}
