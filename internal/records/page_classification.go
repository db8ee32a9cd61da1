package records

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The classified archive's pages: the items by level, and each item's
// classification record with the forms to extend its protection, change
// its level, declassify it (two people for top secret) and grant or
// revoke need-to-know.

const consoleArchivePath = "/console/archive"

func consoleClassificationPath(id int64) string {
	return "/console/documents/" + strconv.FormatInt(id, 10) + "/classification"
}

func (h *Handler) registerClassification(rt *web.Router) {
	read := web.Staff(authz.KindClassification, authz.Read)
	rt.HandleFunc("GET "+consoleArchivePath, read, h.consoleArchive)
	rt.HandleFunc("GET /console/documents/{id}/classification", read, h.consoleClassification)
	// Deciding a classification and granting need-to-know are separate
	// capacities: the service asks authz for each one.
	rt.HandleFunc("POST /console/documents/{id}/classification", web.SignedIn, h.consolePostClassification)
}

// archiveRow is a classified item as the archive lists it.
type archiveRow struct {
	Href, Subject, Number, Until, Pending string
	Level                                 levelBadge
	Expired                               bool
}

// archiveData is the archive page.
type archiveData struct {
	Levels  []archiveTab
	Rows    []archiveRow
	Pending int
}

// archiveTab is a filter of the archive by level.
type archiveTab struct {
	Href, Label string
	Current     bool
}

func (h *Handler) consoleArchive(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	level := authz.Unclassified
	if s := r.URL.Query().Get("level"); s != "" {
		l, err := authz.ParseLevel(s)
		if err != nil || l > sub.Clearance {
			// A level above the viewer's clearance lists nothing they may see.
			web.Error(w, r, errs.Invalid("level", "use a level you are cleared for: confidential, secret or top_secret"))
			return
		}
		level = l
	}
	items, err := h.svc.Archive(r.Context(), sub, level)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.archive.title")
	now := h.svc.now()
	data := archiveData{Levels: []archiveTab{{Href: consoleArchivePath, Label: p.T("records.archive.all"), Current: level == authz.Unclassified}}}
	for l := authz.Confidential; l <= sub.Clearance && l.Valid(); l++ {
		data.Levels = append(data.Levels, archiveTab{Href: consoleArchivePath + "?level=" + l.String(), Label: p.T("records.level." + l.String()), Current: l == level})
	}
	for _, it := range items {
		row := archiveRow{Href: consoleClassificationPath(it.ID), Subject: it.Subject, Number: it.Number, Until: showDay(it.ProtectUntil),
			Level: badgeOf(p, it.Classification), Expired: !it.ProtectUntil.IsZero() && now.After(it.ProtectUntil)}
		if it.Pending != nil {
			row.Pending = p.T("records.archive.pending." + it.Pending.Action)
			data.Pending++
		}
		data.Rows = append(data.Rows, row)
	}
	h.pages.Render(w, r, http.StatusOK, "console_archive", web.View[archiveData]{Page: p, Data: data})
}

// classificationEvent is an entry of the history as the page shows it.
type classificationEvent struct {
	At, KindKey, Reason, Source, Actor, Second, Until string
	From, To                                          levelBadge
}

// grantRow is an explicit grant as the page lists it.
type grantRow struct {
	ID                                int64
	Staff, Reason, GrantedBy, At, End string
	InForce                           bool
}

// classificationData is a document's classification page.
type classificationData struct {
	ID                                int64
	Subject, Number, DocHref          string
	Level                             levelBadge
	Reason, Source, Classifier, Until string
	History                           []classificationEvent
	Pending                           *Pending
	PendingText, PendingBy, PendingAt string
	Grants                            []grantRow
	Forms                             []draftingForm
	Problem                           web.Refusal
	CanRevoke                         bool
	RevokeHref, CSRF                  string
}

func (h *Handler) consoleClassification(w http.ResponseWriter, r *http.Request) {
	h.showClassification(w, r, http.StatusOK, web.SentBack{})
}

func (h *Handler) showClassification(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	id, err := parseDocumentID(r.PathValue("id"))
	var v *ClassificationView
	if err == nil {
		v, err = h.svc.ClassificationOf(ctx, sub, id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.archive.record")
	p.Title = p.T("records.archive.record") + " — " + ellipsis(v.Subject, 80)
	p.Flash = p.Confirmed(r, "records.archive.flash.did.", docLabel(p, v.Document), showDay(v.Record.ProtectUntil), p.T("records.level."+v.Classification.String()))
	ids := []int64{v.Record.ClassifierID}
	for _, e := range v.Record.History {
		ids = append(ids, e.ActorID, e.SecondID)
	}
	for _, g := range v.Grants {
		ids = append(ids, g.StaffID, g.GrantedBy)
	}
	if v.Record.Pending != nil {
		ids = append(ids, v.Record.Pending.ProposerID)
	}
	names, err := staffNames(ctx, h.svc.db, ids)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	now := h.svc.now()
	data := classificationData{ID: v.ID, Subject: v.Subject, Number: v.Number, Level: badgeOf(p, v.Classification),
		Reason: v.Record.Reason, Source: v.Record.Source, Classifier: names[v.Record.ClassifierID], Until: showDay(v.Record.ProtectUntil),
		Pending: v.Record.Pending, CSRF: p.CSRF, RevokeHref: consoleClassificationPath(v.ID)}
	// The document's page is for whoever may read it (a security officer
	// decides a classification without reading the content).
	if dec, _ := authz.Decide(sub, authz.Read, v.resource()); dec == authz.Allowed {
		data.DocHref = documentHref(v.Document)
	}
	for _, e := range v.Record.History {
		ev := classificationEvent{At: web.ShowTime(e.At), KindKey: "records.archive.event." + string(e.Kind), Reason: e.Reason, Source: e.Source,
			Actor: names[e.ActorID], Second: names[e.SecondID], Until: showDay(e.ProtectUntil), From: badgeOf(p, e.From), To: badgeOf(p, e.To)}
		data.History = append(data.History, ev)
	}
	if pd := v.Record.Pending; pd != nil {
		data.PendingText, data.PendingBy, data.PendingAt = p.T("records.archive.pending."+pd.Action), names[pd.ProposerID], web.ShowTime(pd.At)
	}
	for _, g := range v.Grants {
		data.Grants = append(data.Grants, grantRow{ID: g.ID, Staff: names[g.StaffID], Reason: g.Reason, GrantedBy: names[g.GrantedBy],
			At: web.ShowTime(g.At), End: web.ShowTime(g.ExpiresAt), InForce: g.ExpiresAt.After(now)})
	}
	shown, err := h.classificationForms(r, p, v, back, &data)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if !shown {
		data.Problem = back.Refusal
	}
	h.pages.Render(w, r, status, "console_classification", web.View[classificationData]{Page: p, Data: data})
}

// classificationForms fills data with the forms sub may use on v, and
// reports whether the form sent back (if any) is among them.
func (h *Handler) classificationForms(r *http.Request, p web.Page, v *ClassificationView, back web.SentBack, data *classificationData) (bool, error) {
	sub := web.SubjectFrom(r.Context())
	res := v.resource()
	can := func(k authz.Kind, a authz.Action) bool {
		res.Kind = k
		dec, _ := authz.Decide(sub, a, res)
		return dec == authz.Allowed
	}
	drawn := back.Form == ""
	add := func(action string, danger bool, stored url.Values, fields func(fm *web.Form) []web.Field) {
		prefix := "cls-" + action + "-"
		drawn = drawn || back.Form == prefix
		fm := back.NewForm(p, prefix, stored)
		f := draftingForm{Action: action, Label: p.T("records.archive.action." + action), Prefix: prefix, Danger: danger,
			Href: consoleClassificationPath(v.ID), CSRF: p.CSRF, Fields: fields(fm)}
		f.Problem = fm.Message()
		data.Forms = append(data.Forms, f)
	}
	classified := v.Classification > authz.Unclassified
	if classified && can(authz.KindClassification, authz.Update) {
		next := v.Record.ProtectUntil.AddDate(ProtectionPeriod(v.Classification), 0, 0)
		add("extend", false, url.Values{"until": {next.In(web.MinistryZone()).Format("2006-01-02")}}, func(fm *web.Form) []web.Field {
			return []web.Field{fm.Field("until", "date", "records.archive.until", true), fm.Field("reason", "textarea", "records.archive.reason", true)}
		})
		var levels []web.Option
		for _, o := range levelsUpTo(p, sub.Clearance)[1:] {
			if o.Value != v.Classification.String() {
				levels = append(levels, o)
			}
		}
		add("change_level", false, nil, func(fm *web.Form) []web.Field {
			return []web.Field{fm.Choice("level", "select", "records.archive.level", true, levels), fm.Field("reason", "textarea", "records.archive.reason", true)}
		})
	}
	if classified && can(authz.KindClassification, authz.Approve) {
		action := "declassify"
		var stored url.Values
		if pd := v.Record.Pending; pd != nil && pd.Action == "declassify" {
			if pd.ProposerID == sub.ID {
				action = "" // awaiting someone else
			} else {
				action, stored = "confirm", url.Values{"reason": {pd.Reason}}
			}
		}
		if action != "" {
			add(action, true, stored, func(fm *web.Form) []web.Field {
				return []web.Field{fm.Field("reason", "textarea", "records.archive.reason", true)}
			})
		}
	}
	if can(authz.KindDocumentGrant, authz.Create) {
		data.CanRevoke = true
		staff, err := grantableStaff(r.Context(), h.svc.db, v.Classification)
		if err != nil {
			return false, err
		}
		opts := make([]web.Option, len(staff))
		for i, s := range staff {
			opts[i] = web.Option{Value: strconv.FormatInt(s.ID, 10), Label: s.Name}
		}
		until := h.svc.now().AddDate(0, 3, 0).In(web.MinistryZone()).Format("2006-01-02")
		add("grant", false, url.Values{"expires_at": {until}}, func(fm *web.Form) []web.Field {
			return []web.Field{fm.Choice("staff_id", "select", "records.archive.grantee", true, opts),
				fm.Field("reason", "text", "records.archive.grant_reason", true), fm.Field("expires_at", "date", "records.archive.expires", true)}
		})
	}
	return drawn, nil
}

func (h *Handler) consolePostClassification(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	if err == nil {
		if perr := r.ParseForm(); perr != nil {
			err = errs.Invalid("form", "the form could not be read")
		}
	}
	action := r.PostFormValue("action")
	flash := "records.archive.flash.done"
	if err == nil {
		flash, err = h.classificationAct(r, id, action)
	}
	if err != nil {
		form := "cls-" + action + "-"
		if action == "revoke" {
			form = "cls-grant-"
		}
		h.pageFormError(w, r, err, func(ref web.Refusal) {
			h.showClassification(w, r, ref.Status, web.SentBack{Form: form, Values: r.PostForm, Refusal: ref})
		})
		return
	}
	if flash != "records.archive.flash.done" {
		web.RedirectWithFlash(w, r, consoleClassificationPath(id), flash)
		return
	}
	web.RedirectDone(w, r, consoleClassificationPath(id), flash, action)
}

// docLabel names a document in a confirmation: by its number once it has
// one, else by its subject.
func docLabel(p web.Page, d *Document) string {
	if d.Number != "" {
		return p.T("records.archive.doc.number", d.Number)
	}
	return p.T("records.archive.doc.subject", ellipsis(d.Subject, 80))
}

// classificationAct takes the action a classification form posted, and
// returns the flash to show.
func (h *Handler) classificationAct(r *http.Request, id int64, action string) (string, error) {
	ctx, sub, v := r.Context(), web.SubjectFrom(r.Context()), r.PostForm
	reason := v.Get("reason")
	switch action {
	case "extend":
		until, err := parseDay("until", v.Get("until"), false)
		if err == nil && until.IsZero() {
			err = errs.Invalid("until", "is required")
		}
		if err != nil {
			return "", err
		}
		return "records.archive.flash.done", h.svc.Extend(ctx, sub, id, until.Add(24*time.Hour-time.Second), reason)
	case "change_level":
		l, err := authz.ParseLevel(v.Get("level"))
		if err != nil {
			return "", errs.Invalid("level", "choose a level from the list")
		}
		return "records.archive.flash.done", h.svc.ChangeLevel(ctx, sub, id, l, reason)
	case "declassify", "confirm":
		done, err := h.svc.Declassify(ctx, sub, id, reason)
		if err == nil && !done {
			return "records.archive.flash.proposed", nil
		}
		return "records.archive.flash.done", err
	case "grant":
		staff, err := web.ParseID("staff_id", v.Get("staff_id"))
		if err != nil {
			return "", err
		}
		until, err := parseDay("expires_at", v.Get("expires_at"), false)
		if err == nil && until.IsZero() {
			err = errs.Invalid("expires_at", "is required")
		}
		if err != nil {
			return "", err
		}
		_, err = h.svc.Grant(ctx, sub, id, NewGrant{StaffID: staff, Reason: reason, ExpiresAt: until.Add(24*time.Hour - time.Second)})
		return "records.archive.flash.done", err
	case "revoke":
		g, err := web.ParseID("grant", v.Get("grant"))
		if err != nil {
			return "", err
		}
		return "records.archive.flash.done", h.svc.RevokeGrant(ctx, sub, id, g)
	}
	return "", errors.Join(errs.Invalid("action", "unknown action"))
}
