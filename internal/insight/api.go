package insight

import (
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// answer writes v as JSON, or err.
func answer[T any](w http.ResponseWriter, r *http.Request, status int, v T, err error) {
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, v)
}

// taskFilterOf reads a list's filter: unit, status, overdue.
func taskFilterOf(r *http.Request) (TaskFilter, error) {
	q := r.URL.Query()
	f := TaskFilter{Status: TaskStatus(q.Get("status")), Overdue: q.Get("overdue") == "true"}
	switch f.Status {
	case "", TaskOpen, TaskInProgress, TaskDone:
	default:
		return f, errs.Invalid("status", "choose open, in_progress or done")
	}
	if u := q.Get("unit"); u != "" {
		id, err := web.ParseID("unit", u)
		if err != nil {
			return f, err
		}
		f.Unit = id
	}
	return f, nil
}

func (h *Handler) apiTasks(w http.ResponseWriter, r *http.Request) {
	f, err := taskFilterOf(r)
	var ts []Task
	if err == nil {
		ts, err = h.svc.Tasks(r.Context(), web.SubjectFrom(r.Context()), f)
	}
	answer(w, r, http.StatusOK, map[string]any{"items": ts}, err)
}

func (h *Handler) apiAssign(w http.ResponseWriter, r *http.Request) {
	var n NewTask
	if err := web.DecodeJSON(r, &n); err != nil {
		web.Error(w, r, err)
		return
	}
	t, err := h.svc.Assign(r.Context(), web.SubjectFrom(r.Context()), n)
	answer(w, r, http.StatusCreated, t, err)
}

func (h *Handler) apiTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var t Task
	if err == nil {
		t, err = h.svc.Task(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	answer(w, r, http.StatusOK, t, err)
}

func (h *Handler) apiReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var rep Report
	if err == nil {
		err = web.DecodeJSON(r, &rep)
	}
	var t Task
	if err == nil {
		t, err = h.svc.Report(r.Context(), web.SubjectFrom(r.Context()), id, rep)
	}
	answer(w, r, http.StatusOK, t, err)
}

func (h *Handler) apiTally(w http.ResponseWriter, r *http.Request) {
	ts, err := h.svc.Tally(r.Context(), web.SubjectFrom(r.Context()))
	answer(w, r, http.StatusOK, map[string]any{"items": ts}, err)
}

func (h *Handler) apiTemplates(w http.ResponseWriter, r *http.Request) {
	ts, err := h.svc.Templates(r.Context(), web.SubjectFrom(r.Context()))
	answer(w, r, http.StatusOK, map[string]any{"items": ts}, err)
}

func (h *Handler) apiCreateTemplate(w http.ResponseWriter, r *http.Request) {
	var t Template
	if err := web.DecodeJSON(r, &t); err != nil {
		web.Error(w, r, err)
		return
	}
	t, err := h.svc.CreateTemplate(r.Context(), web.SubjectFrom(r.Context()), t)
	answer(w, r, http.StatusCreated, t, err)
}

func (h *Handler) apiRounds(w http.ResponseWriter, r *http.Request) {
	rs, err := h.svc.Rounds(r.Context(), web.SubjectFrom(r.Context()))
	answer(w, r, http.StatusOK, map[string]any{"items": rs}, err)
}

func (h *Handler) apiOpenRound(w http.ResponseWriter, r *http.Request) {
	var n NewRound
	if err := web.DecodeJSON(r, &n); err != nil {
		web.Error(w, r, err)
		return
	}
	rd, err := h.svc.OpenRound(r.Context(), web.SubjectFrom(r.Context()), n)
	answer(w, r, http.StatusCreated, rd, err)
}

func (h *Handler) apiRound(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var v RoundView
	if err == nil {
		v, err = h.svc.Round(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	answer(w, r, http.StatusOK, v, err)
}

func (h *Handler) apiSubmit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var body struct {
		Values map[string]string `json:"values"`
	}
	if err == nil {
		err = web.DecodeJSON(r, &body)
	}
	var sm Submission
	if err == nil {
		sm, err = h.svc.Submit(r.Context(), web.SubjectFrom(r.Context()), id, body.Values)
	}
	answer(w, r, http.StatusCreated, sm, err)
}

func (h *Handler) apiDecide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var sid int64
	if err == nil {
		sid, err = pathID(r, "sid")
	}
	var d Decision
	if err == nil {
		err = web.DecodeJSON(r, &d)
	}
	var sm Submission
	if err == nil {
		sm, err = h.svc.DecideSubmission(r.Context(), web.SubjectFrom(r.Context()), id, sid, d)
	}
	answer(w, r, http.StatusOK, sm, err)
}

func (h *Handler) apiAggregate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var a Aggregation
	if err == nil {
		a, err = h.svc.Aggregate(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	answer(w, r, http.StatusOK, a, err)
}

// taskFile sends a task's evidence file.
func (h *Handler) taskFile(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var upd int64
	if err == nil {
		upd, err = pathID(r, "update")
	}
	var name string
	var data []byte
	if err == nil {
		name, data, err = h.svc.TaskFile(r.Context(), web.SubjectFrom(r.Context()), id, upd)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.Attachment(w, name, "application/octet-stream", data)
}
