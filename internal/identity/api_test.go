package identity_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

func mustJSON(t *testing.T, raw string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
}

func TestAPIRefusesAnonymousAndUnprivilegedCallers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		before := e.counts(t)
		tests := []struct {
			name   string
			as     web.Principal
			method string
			path   string
			body   string
			want   int
		}{
			{"anonymous list", web.Principal{}, "GET", "/api/v1/units", "", http.StatusUnauthorized},
			{"anonymous create", web.Principal{}, "POST", "/api/v1/units", `{"code":"000.00.30.G12"}`, http.StatusUnauthorized},
			{"clerk creates a user", e.clerk, "POST", "/api/v1/users", `{"username":"mallory","full_name":"M","unit_id":1}`, http.StatusForbidden},
			{"clerk lists users", e.clerk, "GET", "/api/v1/users", "", http.StatusForbidden},
			{"clerk merges units", e.clerk, "POST", fmt.Sprintf("/api/v1/units/%d/merge", e.tree.press.ID), `{"into":1}`, http.StatusForbidden},
			{"clerk edits a unit", e.clerk, "PATCH", fmt.Sprintf("/api/v1/units/%d", e.tree.press.ID), `{"name_en":"x","version":1}`, http.StatusForbidden},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.json(tt.as, tt.method, tt.path, tt.body)
				if w.Code != tt.want {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.want, body(w))
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("Content-Type %q, want application/problem+json", ct)
				}
			})
		}
		if after := e.counts(t); after != before {
			t.Fatalf("refused requests changed the directory: %s → %s", before, after)
		}
		// Reading the unit directory is every staff member's right.
		if w := e.json(e.clerk, "GET", "/api/v1/units", ""); w.Code != http.StatusOK {
			t.Fatalf("clerk reading units: %d %s", w.Code, body(w))
		}
	})
}

func TestAPIRefusesBadInputAndChangesNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		press := fmt.Sprintf("/api/v1/units/%d", e.tree.press.ID)
		consular := fmt.Sprintf("/api/v1/units/%d", e.tree.consular.ID)
		valid := fmt.Sprintf(`"code":"000.00.30.G12","name_vi":"Vụ Châu Âu","name_en":"Europe","kind":"department","parent_id":%d,"country":"VN","time_zone":"Asia/Ho_Chi_Minh"`, e.tree.root.ID)
		tests := []struct {
			name, method, path, contentType, body string
			want                                  int
		}{
			{"malformed JSON", "POST", "/api/v1/units", "application/json", `{"code":`, 400},
			{"not an object", "POST", "/api/v1/units", "application/json", `[1,2]`, 400},
			{"unknown field", "POST", "/api/v1/units", "application/json", "{" + valid + `,"admin":true}`, 400},
			{"invalid UTF-8", "POST", "/api/v1/units", "application/json", "{" + strings.Replace(valid, "Vụ", "V\xff", 1) + "}", 400},
			{"wrong type", "POST", "/api/v1/units", "application/json", `{"parent_id":"one"}`, 400},
			{"empty body", "POST", "/api/v1/units", "application/json", ``, 400},
			{"two values", "POST", "/api/v1/units", "application/json", "{" + valid + "}{}", 400},
			{"form body", "POST", "/api/v1/units", "application/x-www-form-urlencoded", "code=1", 400},
			{"bad code", "POST", "/api/v1/units", "application/json", "{" + strings.Replace(valid, "000.00.30.G12", "G12", 1) + "}", 400},
			{"duplicate code", "POST", "/api/v1/units", "application/json", "{" + strings.Replace(valid, "000.00.30.G12", e.tree.press.Code, 1) + "}", 409},
			{"non-numeric id", "GET", "/api/v1/units/abc", "", "", 400},
			{"negative id", "GET", "/api/v1/units/-1", "", "", 400},
			{"signed id", "GET", "/api/v1/units/+1", "", "", 400},
			{"id with SQL", "GET", "/api/v1/units/1%20OR%201=1", "", "", 400},
			{"unknown id", "GET", "/api/v1/units/99999", "", "", 404},
			{"bad limit", "GET", "/api/v1/units?limit=ten", "", "", 400},
			{"bad cursor", "GET", "/api/v1/units?after=-5", "", "", 400},
			{"bad kind filter", "GET", "/api/v1/units?kind=planet", "", "", 400},
			{"patch without version", "PATCH", press, "application/json", `{"name_en":"Press"}`, 400},
			{"patch with stale version", "PATCH", press, "application/json", `{"name_en":"Press","version":99}`, 409},
			{"patch with null name", "PATCH", press, "application/json", `{"name_en":"","version":1}`, 400},
			{"merge into itself", "POST", press + "/merge", "application/json", fmt.Sprintf(`{"into":%d}`, e.tree.press.ID), 400},
			{"merge with a future date", "POST", press + "/merge", "application/json", fmt.Sprintf(`{"into":%d,"effective":"2999-01-01"}`, e.tree.consular.ID), 400},
			{"merge with a bad date", "POST", press + "/merge", "application/json", fmt.Sprintf(`{"into":%d,"effective":"01/02/2025"}`, e.tree.consular.ID), 400},
			{"move into own child", "POST", consular + "/move", "application/json", fmt.Sprintf(`{"parent":%d}`, e.tree.visas.ID), 400},
			{"move the root", "POST", fmt.Sprintf("/api/v1/units/%d/move", e.tree.root.ID), "application/json", fmt.Sprintf(`{"parent":%d}`, e.tree.press.ID), 400},
			{"history of non-numeric id", "GET", "/api/v1/units/x/history", "", "", 400},
			{"user with unknown role", "POST", "/api/v1/users", "application/json", fmt.Sprintf(`{"username":"new.user","full_name":"N","unit_id":%d,"roles":["king"]}`, e.tree.press.ID), 400},
			{"user with unknown clearance", "POST", "/api/v1/users", "application/json", fmt.Sprintf(`{"username":"new.user","full_name":"N","unit_id":%d,"clearance":"ultra"}`, e.tree.press.ID), 400},
			{"user with roles as a string", "POST", "/api/v1/users", "application/json", `{"username":"new.user","full_name":"N","unit_id":1,"roles":"clerk"}`, 400},
			{"user with taken username", "POST", "/api/v1/users", "application/json", fmt.Sprintf(`{"username":"clerk","full_name":"N","unit_id":%d}`, e.tree.press.ID), 409},
			{"user with SQL username", "POST", "/api/v1/users", "application/json", fmt.Sprintf(`{"username":"x'; DROP TABLE staff;--","full_name":"N","unit_id":%d}`, e.tree.press.ID), 400},
			{"user in unknown unit", "POST", "/api/v1/users", "application/json", `{"username":"new.user","full_name":"N","unit_id":99999}`, 400},
			{"user id not numeric", "PATCH", "/api/v1/users/me", "application/json", `{"version":1}`, 400},
			{"user patch with bad clearance", "PATCH", "/api/v1/users/1", "application/json", `{"clearance":"9000","version":1}`, 400},
			{"user list with bad role", "GET", "/api/v1/users?role=king", "", "", 400},
		}
		before := e.counts(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := webtest.Problem(t, e.do(e.admin, tt.method, tt.path, tt.contentType, tt.body), tt.want)
				if p.Status != tt.want || p.Detail == "" {
					t.Fatalf("problem %+v", p)
				}
			})
		}
		if after := e.counts(t); after != before {
			t.Fatalf("refused requests changed the directory: %s → %s", before, after)
		}
		if e.creds.issued != 0 {
			t.Fatalf("refused requests issued %d passwords", e.creds.issued)
		}
	})
}

func TestAPIStoresSQLMetacharactersVerbatim(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		nasty := `Robert'); DROP TABLE units; -- "%_\`
		req, _ := json.Marshal(map[string]any{"code": "000.00.31.G12", "name_vi": nasty, "name_en": "<script>alert(1)</script>",
			"kind": "department", "parent_id": e.tree.root.ID, "country": "VN", "time_zone": "Asia/Ho_Chi_Minh"})
		w := e.json(e.admin, "POST", "/api/v1/units", string(req))
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, body(w))
		}
		var created struct {
			ID     int64  `json:"id"`
			NameVI string `json:"name_vi"`
			NameEN string `json:"name_en"`
		}
		mustJSON(t, body(w), &created)
		w = e.json(e.admin, "GET", fmt.Sprintf("/api/v1/units/%d", created.ID), "")
		var got struct {
			NameVI string `json:"name_vi"`
			NameEN string `json:"name_en"`
		}
		mustJSON(t, body(w), &got)
		if got.NameVI != nasty || got.NameEN != "<script>alert(1)</script>" {
			t.Fatalf("stored %+v, want the names verbatim", got)
		}
		// The wildcards in the name search as text, not as patterns.
		w = e.json(e.admin, "GET", "/api/v1/units?q=%25_", "")
		var list struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		mustJSON(t, body(w), &list)
		if len(list.Items) != 1 || list.Items[0].ID != created.ID {
			t.Fatalf("search for %%_ = %+v, want only the unit named with it", list.Items)
		}
	})
}

func TestAPIUnitLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.json(e.admin, "POST", "/api/v1/units", fmt.Sprintf(`{"code":"000.00.30.G12","name_vi":"Vụ Châu Âu","name_en":"Department of Europe","kind":"department","parent_id":%d,"country":"vn","time_zone":"Asia/Ho_Chi_Minh"}`, e.tree.root.ID))
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, body(w))
		}
		var u struct {
			ID      int64  `json:"id"`
			Country string `json:"country"`
			Version int    `json:"version"`
		}
		mustJSON(t, body(w), &u)
		if w.Header().Get("Location") != fmt.Sprintf("/api/v1/units/%d", u.ID) || u.Country != "VN" {
			t.Fatalf("created %+v at %q", u, w.Header().Get("Location"))
		}
		path := fmt.Sprintf("/api/v1/units/%d", u.ID)
		w = e.json(e.admin, "PATCH", path, fmt.Sprintf(`{"name_en":"Europe Department","version":%d}`, u.Version))
		if w.Code != http.StatusOK {
			t.Fatalf("patch: %d %s", w.Code, body(w))
		}
		w = e.json(e.admin, "PATCH", path, fmt.Sprintf(`{"name_en":"Again","version":%d}`, u.Version))
		if w.Code != http.StatusConflict || !strings.Contains(body(w), "reload") {
			t.Fatalf("stale patch: %d %s", w.Code, body(w))
		}
		w = e.json(e.admin, "POST", path+"/move", fmt.Sprintf(`{"parent":%d,"effective":"2025-03-10"}`, e.tree.consular.ID))
		if w.Code != http.StatusOK {
			t.Fatalf("move: %d %s", w.Code, body(w))
		}
		w = e.json(e.admin, "POST", path+"/merge", fmt.Sprintf(`{"into":%d}`, e.tree.press.ID))
		if w.Code != http.StatusOK {
			t.Fatalf("merge: %d %s", w.Code, body(w))
		}
		w = e.json(e.clerk, "GET", path+"/history", "")
		var history struct {
			Items []struct {
				Kind string `json:"kind"`
			} `json:"items"`
			Next string `json:"next"`
		}
		mustJSON(t, body(w), &history)
		var kinds []string
		for _, h := range history.Items {
			kinds = append(kinds, h.Kind)
		}
		if strings.Join(kinds, ",") != "created,updated,moved,merged_into" {
			t.Fatalf("history = %v", kinds)
		}
	})
}

func TestAPIListUnitsPagesWithCursor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		seen := map[int64]bool{}
		path := "/api/v1/units?limit=2"
		for pages := 0; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			w := e.json(e.admin, "GET", path, "")
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", path, w.Code, body(w))
			}
			var page struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
				Next *string `json:"next"`
			}
			mustJSON(t, body(w), &page)
			if page.Items == nil || page.Next == nil {
				t.Fatalf("page %s lacks items or next: %s", path, body(w))
			}
			for _, it := range page.Items {
				if seen[it.ID] {
					t.Fatalf("unit %d on two pages", it.ID)
				}
				seen[it.ID] = true
			}
			path = ""
			if *page.Next != "" {
				path = "/api/v1/units?limit=2&after=" + *page.Next
			}
		}
		if len(seen) != 5 {
			t.Fatalf("pages held %d units, want the tree's 5", len(seen))
		}
		w := e.json(e.admin, "GET", "/api/v1/units?q=nothing-matches", "")
		if got := strings.TrimSpace(body(w)); got != `{"items":[],"next":""}` {
			t.Fatalf("empty page = %s", got)
		}
	})
}

func TestAPIUsers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.json(e.admin, "POST", "/api/v1/users", fmt.Sprintf(`{"username":"tran.thi.binh","full_name":"Trần Thị Bình","email":"Binh@MOFA.gov.vn","unit_id":%d,"roles":["officer","clerk"],"clearance":"secret"}`, e.tree.consular.ID))
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, body(w))
		}
		var created struct {
			User struct {
				ID        int64    `json:"id"`
				Email     string   `json:"email"`
				Roles     []string `json:"roles"`
				Clearance string   `json:"clearance"`
				Version   int      `json:"version"`
			} `json:"user"`
			OTP      string `json:"one_time_password"`
			Proposal struct {
				ID        int64  `json:"id"`
				Clearance string `json:"clearance"`
				Status    string `json:"status"`
			} `json:"proposal"`
		}
		mustJSON(t, body(w), &created)
		u := created.User
		// The clearance waits for a security officer's approval.
		if created.OTP == "" || strings.Join(u.Roles, ",") != "clerk,officer" || u.Clearance != "none" || u.Email != "binh@mofa.gov.vn" ||
			created.Proposal.Clearance != "secret" || created.Proposal.Status != "pending" {
			t.Fatalf("created %+v", created)
		}
		w = e.json(e.secOff, "POST", fmt.Sprintf("/api/v1/user-proposals/%d/approve", created.Proposal.ID), "")
		if w.Code != http.StatusOK || !strings.Contains(body(w), `"clearance":"secret"`) {
			t.Fatalf("approve: %d %s", w.Code, body(w))
		}
		u.Version++
		path := fmt.Sprintf("/api/v1/users/%d", u.ID)
		w = e.json(e.admin, "GET", path, "")
		if w.Code != http.StatusOK || strings.Contains(body(w), created.OTP) || !strings.Contains(body(w), `"memberships":[{`) {
			t.Fatalf("get: %d %s", w.Code, body(w))
		}

		// Renaming takes no power away: sessions stay.
		w = e.json(e.admin, "PATCH", path, fmt.Sprintf(`{"full_name":"Trần Thị Bình An","version":%d}`, u.Version))
		if w.Code != http.StatusOK || e.creds.revocations(u.ID) != 0 {
			t.Fatalf("rename: %d %s, %d revocations", w.Code, body(w), e.creds.revocations(u.ID))
		}
		changes := []struct {
			name  string
			patch string
		}{
			{"lower clearance", `"clearance":"confidential"`},
			{"remove a role", `"roles":["officer"]`},
			{"disable", `"disabled":true`},
		}
		for i, c := range changes {
			t.Run(c.name, func(t *testing.T) {
				w := e.json(e.admin, "PATCH", path, fmt.Sprintf(`{%s,"version":%d}`, c.patch, u.Version+1+i))
				if w.Code != http.StatusOK {
					t.Fatalf("%d %s", w.Code, body(w))
				}
				if got := e.creds.revocations(u.ID); got != i+1 {
					t.Fatalf("%d revocations, want %d", got, i+1)
				}
			})
		}
		w = e.json(e.admin, "GET", "/api/v1/users?include_disabled=true&role=officer&q=binh", "")
		if w.Code != http.StatusOK || !strings.Contains(body(w), `"roles":["officer"]`) || !strings.Contains(body(w), `"disabled":true`) {
			t.Fatalf("list: %d %s", w.Code, body(w))
		}
		w = e.json(e.admin, "POST", path+"/password", "")
		if w.Code != http.StatusOK || !strings.Contains(body(w), "one_time_password") {
			t.Fatalf("reset: %d %s", w.Code, body(w))
		}
	})
}

// FuzzCreateUnitJSON feeds arbitrary bodies to POST /api/v1/units: the
// answer is never a server error, and a refusal is always a problem
// document.
func FuzzCreateUnitJSON(f *testing.F) {
	seeds := []string{
		`{"code":"000.00.40.G12","name_vi":"Vụ","name_en":"Dept","kind":"department","parent_id":1,"country":"VN","time_zone":"Asia/Ho_Chi_Minh"}`,
		`{"code":"000.00.41.G12","name_vi":"\u0000","name_en":"x","kind":"embassy","parent_id":1,"country":"fr","time_zone":"Europe/Paris"}`,
		`{"code":null,"parent_id":-1}`,
		`{"parent_id":9223372036854775807}`,
		`{"parent_id":1e400}`,
		`{"kind":"ministry","time_zone":"../../../etc/passwd"}`,
		`[]`, `null`, `"x"`, `{"code":`, "\xff\xfe", `{"a":1}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := newEnv(f, storetest.MustOpen(f, store.SQLite))
	f.Fuzz(func(t *testing.T, in string) {
		w := e.json(e.admin, "POST", "/api/v1/units", in)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, in, body(w))
		}
		if w.Code != http.StatusCreated && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("refusal %d for %q is not a problem document", w.Code, in)
		}
	})
}
