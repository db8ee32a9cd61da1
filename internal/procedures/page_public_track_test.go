package procedures

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestTrackStepsFollowTheDossiersWay pins the stepper's reading of each
// status: the milestones before it done, its own current, a pause noted
// in its own words, and a dossier that stopped showing nothing after.
func TestTrackStepsFollowTheDossiersWay(t *testing.T) {
	cat, err := i18n.New(Texts(), identity.Texts())
	if err != nil {
		t.Fatal(err)
	}
	tr := cat.In(i18n.VI)
	tests := []struct {
		status Status
		states string // one letter a step: d done, c current, t to come, s stopped
		noted  bool   // the current step carries the status's own words
	}{
		{StatusRegistered, "ctttt", false},
		{StatusReceived, "dcttt", false},
		{StatusRefusedIntake, "ds", true},
		{StatusProcessing, "ddctt", false},
		{StatusDocumentsRequested, "ddctt", true},
		{StatusPaymentRequested, "ddctt", true},
		{StatusWithdrawalRequested, "ddctt", true},
		{StatusStopped, "dds", true},
		{StatusCompleted, "dddct", false},
		{StatusReturned, "ddddd", false},
	}
	for _, tt := range tests {
		steps := trackSteps(tr, tt.status)
		var got strings.Builder
		for _, st := range steps {
			got.WriteByte(st.State[0])
			if st.StateText == "" || strings.HasPrefix(st.StateText, "procedures.") {
				t.Errorf("status %d: step %q has no words for its state", tt.status, st.Label)
			}
			if st.State == "current" || st.State == "stopped" {
				if noted := st.Note == tr.T(tt.status.Key()); noted != tt.noted {
					t.Errorf("status %d: note %q, want noted = %v", tt.status, st.Note, tt.noted)
				}
			}
		}
		if got.String() != tt.states {
			t.Errorf("status %d: steps %s, want %s", tt.status, got.String(), tt.states)
		}
	}
}

func TestTrackingPageDrawsTheStepper(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		ds := s.submitOnline(t)
		pin := pinOnReceipt(t, page(s.get(t, "citizen", "/dossiers/"+ds.Code+"/receipt")))
		rec := s.post(t, "", "/track", url.Values{"code": {ds.Code}, "pin": {pin}})
		body := page(rec)
		if rec.Code != http.StatusOK || !strings.Contains(body, `<ol class="stepper"`) ||
			strings.Count(body, `<li class="step `) != len(trackMilestones) ||
			!strings.Contains(body, `<li class="step step-current" aria-current="step">`) {
			t.Errorf("tracking = %d; the page lacks a stepper with its current step marked:\n%s", rec.Code, body)
		}
		if strings.Contains(body, "Asia/Ho_Chi_Minh") || !strings.Contains(body, "(GMT+7)") {
			t.Error("tracking names the zone database's zone, not the clock's offset")
		}
	})
}
