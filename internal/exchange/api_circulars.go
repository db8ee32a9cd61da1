package exchange

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// CircularRequest is the JSON body of POST /api/v1/exchange/circulars.
type CircularRequest struct {
	// Service is the service's code and version, such as notice/v1,
	// which every recipient offers.
	Service     string   `json:"service"`
	Recipients  []string `json:"recipients,omitempty"`
	AllMissions bool     `json:"all_missions,omitempty"`
	Level       string   `json:"level,omitempty"`
	ContentType string   `json:"content_type,omitempty"`
	Payload     []byte   `json:"payload"`
}

// CircularResponse is the answer to POST /api/v1/exchange/circulars.
type CircularResponse struct {
	ID     string         `json:"id"`
	Copies []CircularCopy `json:"copies"`
}

// publishCircular takes a circular as JSON (payload in base64), checked
// as a message's fields are, and queues one copy per recipient.
func (h *Handler) publishCircular(w http.ResponseWriter, r *http.Request, from ClientID) {
	conf, err := h.n.Conf()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	// base64 payload, the recipients and the JSON around them
	limit := conf.MaxMessageBytes/3*4 + 64<<10 + int64(MaxCircularRecipients)*300
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			web.Error(w, r, fmt.Errorf("%w: the circular is over the limit of %d bytes", errs.ErrTooLarge, limit))
			return
		}
		web.Error(w, r, fmt.Errorf("%w: read body: %v", errs.ErrInvalid, err))
		return
	}
	var req CircularRequest
	if err := web.DecodeJSONBytes(body, &req, limit); err != nil {
		web.Error(w, r, err)
		return
	}
	level, ct, err := messageFields(req.Level, req.ContentType, req.Payload)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	c := Circular{From: from, Service: req.Service, AllMissions: req.AllMissions, Level: level, ContentType: ct, Payload: req.Payload}
	for _, s := range req.Recipients {
		id, err := ParseClientID(s)
		if err != nil {
			web.Error(w, r, errs.Invalid("recipients", fmt.Sprintf("recipient %q is not a subsystem id instance/class/member/subsystem", web.Clip(s))))
			return
		}
		c.Recipients = append(c.Recipients, id)
	}
	id, copies, err := h.n.Publish(r.Context(), c)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusAccepted, CircularResponse{ID: id, Copies: copies})
}

// circularStatus answers who has the circular: each copy's state.
func (h *Handler) circularStatus(w http.ResponseWriter, r *http.Request, _ ClientID) {
	st, err := h.n.CircularStatus(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, st)
}
