package portal

import (
	"net/http"
	"strconv"

	"chancery/internal/web"
)

// apiNews lists published publications: news, press releases and
// statements unless kind asks for others (advisories).
func (h *Handler) apiNews(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r.URL.Query())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	page, err := h.svc.PublishedList(r.Context(), f)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, page)
}

// apiNewsItem returns a published publication; any other answers 404.
func (h *Handler) apiNewsItem(w http.ResponseWriter, r *http.Request) {
	it, err := h.svc.Published(r.Context(), r.PathValue("slug"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, it)
}

// apiMissions lists the missions abroad with their public details.
func (h *Handler) apiMissions(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Missions(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]any{"items": ms})
}

// apiUpdateMission sets a mission's public details.
func (h *Handler) apiUpdateMission(w http.ResponseWriter, r *http.Request) {
	var d MissionDetails
	if err := web.DecodeJSON(r, &d); err != nil {
		web.Error(w, r, err)
		return
	}
	m, err := h.svc.UpdateMission(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"), d)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, m)
}

// apiItems lists publications in any status, for the press department.
func (h *Handler) apiItems(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r.URL.Query())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	page, err := h.svc.List(r.Context(), web.SubjectFrom(r.Context()), f)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, page)
}

// apiCreate drafts a publication.
func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) {
	var c Content
	if err := web.DecodeJSON(r, &c); err != nil {
		web.Error(w, r, err)
		return
	}
	it, err := h.svc.Create(r.Context(), web.SubjectFrom(r.Context()), c)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/portal/items/"+strconv.FormatInt(it.ID, 10))
	web.JSON(w, r, http.StatusCreated, it)
}

// apiItem returns a publication in any status.
func (h *Handler) apiItem(w http.ResponseWriter, r *http.Request) {
	id, err := itemID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	it, err := h.svc.Item(r.Context(), web.SubjectFrom(r.Context()), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, it)
}

// editRequest is an edit: the whole content and the version it is based
// on.
type editRequest struct {
	Content
	Version int `json:"version"`
}

// apiEdit replaces a publication's content.
func (h *Handler) apiEdit(w http.ResponseWriter, r *http.Request) {
	id, err := itemID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req editRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	it, err := h.svc.Edit(r.Context(), web.SubjectFrom(r.Context()), id, req.Version, req.Content)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, it)
}

// apiStep takes a step of a publication's approval.
func (h *Handler) apiStep(w http.ResponseWriter, r *http.Request) {
	id, err := itemID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req StepRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	it, err := h.svc.Move(r.Context(), web.SubjectFrom(r.Context()), id, req)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, it)
}
