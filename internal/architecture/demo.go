package architecture

import (
	"bytes"
	"context"
	"fmt"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
)

// demoElement is an element of the demo ministry's model.
type demoElement struct {
	id, typ, vi, en string
	owner           string // agency code
	plan, run, end  string // lifecycle dates
	cost            string
	arm, drm, srm   string
	props           map[string]string
}

// demoElements are the ministry's own systems the seeds name (the portal,
// the document management system, the procedure system, the data
// integration platform, the consular and archive systems), with a few
// deliberate flaws for the findings to show: a retired visa application
// still serving the consular system, a second application for the
// consular capability with no recorded reason, the document system
// reading the population database directly rather than through the
// exchange, and an archive with no reference-model category.
var demoElements = []demoElement{
	{id: "mofa-portal", typ: "ApplicationComponent", vi: "Cổng thông tin điện tử Bộ Ngoại giao", en: "Ministry web portal", owner: "000.00.05.G12", plan: "2014-01-01", run: "2015-09-02", cost: "2400000000", arm: "Cổng thông tin điện tử"},
	{id: "mofa-dms", typ: "ApplicationComponent", vi: "Hệ thống quản lý văn bản và điều hành", en: "Document management system", owner: "000.00.01.G12", plan: "2017-01-01", run: "2018-07-01", cost: "3100000000", arm: "Quản lý văn bản và điều hành", srm: "Mã hóa lưu trữ; xác thực đa yếu tố; nhật ký kiểm toán", props: map[string]string{"data": "classified", "encryption-at-rest": "true", "mfa": "true", "audit": "true", PropComponent: "disc-cap-records"}},
	{id: "mofa-procedures", typ: "ApplicationComponent", vi: "Hệ thống thông tin giải quyết thủ tục hành chính", en: "Administrative procedure system", owner: "000.00.03.G12", plan: "2020-01-01", run: "2021-06-01", cost: "2800000000", arm: "Hệ thống thông tin giải quyết TTHC", srm: "Mã hóa lưu trữ; xác thực đa yếu tố; nhật ký kiểm toán", props: map[string]string{"data": "personal", "encryption-at-rest": "true", "mfa": "true", "audit": "true", PropComponent: "disc-cap-procedures"}},
	{id: "mofa-lgsp", typ: "ApplicationComponent", vi: "Nền tảng tích hợp, chia sẻ dữ liệu Bộ Ngoại giao (LGSP)", en: "Ministry data integration platform (LGSP)", owner: "000.00.04.G12", plan: "2019-01-01", run: "2020-03-01", cost: "1900000000", arm: "Nền tảng tích hợp, chia sẻ dữ liệu cấp bộ", props: map[string]string{"exchange": "true", PropComponent: "disc-cap-exchange"}},
	{id: "mofa-consular", typ: "ApplicationComponent", vi: "Hệ thống quản lý hộ chiếu và công tác lãnh sự", en: "Passport and consular system", owner: "000.00.03.G12", plan: "2016-01-01", run: "2017-01-01", cost: "4200000000", arm: "Ứng dụng nghiệp vụ lãnh sự", srm: "Mã hóa lưu trữ; nhật ký kiểm toán", props: map[string]string{"data": "personal", "encryption-at-rest": "true", "audit": "true"}},
	{id: "mofa-visa-legacy", typ: "ApplicationComponent", vi: "Phần mềm cấp thị thực (cũ)", en: "Visa issuing software (legacy)", owner: "000.00.03.G12", plan: "2008-01-01", run: "2009-01-01", end: "2024-12-31", arm: "Ứng dụng nghiệp vụ lãnh sự"},
	{id: "mofa-consular-online", typ: "ApplicationComponent", vi: "Ứng dụng lãnh sự trực tuyến của cơ quan đại diện", en: "Missions' online consular application", owner: "000.00.03.G12", plan: "2022-01-01", run: "2023-01-01", cost: "900000000", arm: "Ứng dụng nghiệp vụ lãnh sự"},
	{id: "mofa-archive", typ: "ApplicationComponent", vi: "Hệ thống lưu trữ tài liệu điện tử", en: "Digital archive system", owner: "000.00.01.G12", plan: "2023-01-01", run: "2024-01-01", cost: "1500000000", props: map[string]string{"data": "classified", "encryption-at-rest": "true", "audit": "true"}},
	{id: "mofa-cap-consular", typ: "Capability", vi: "Giải quyết thủ tục lãnh sự", en: "Consular services"},
	{id: "mofa-dc", typ: "Node", vi: "Trung tâm dữ liệu Bộ Ngoại giao", en: "Ministry data centre", owner: "000.00.04.G12", run: "2012-01-01"},
	{id: "mofa-do-dossiers", typ: "DataObject", vi: "Hồ sơ thủ tục lãnh sự", en: "Consular dossiers", drm: "Dữ liệu chuyên ngành lãnh sự", props: map[string]string{"data": "personal"}},
}

// demoRelationships: source, type, target.
var demoRelationships = [][3]string{
	{"mofa-procedures", "Flow", "mofa-lgsp"},
	{"mofa-lgsp", "Flow", "ref-ndxp"},
	{"mofa-lgsp", "Flow", "ref-dvcqg"},
	{"mofa-consular", "Flow", "mofa-lgsp"},
	{"ref-vneid-svc", "Serving", "mofa-procedures"},
	{"ref-db-population-svc", "Serving", "mofa-lgsp"},
	{"ref-document-axis-svc", "Serving", "mofa-dms"},
	{"mofa-dms", "Flow", "ref-db-population"},        // past the exchange: a finding
	{"mofa-visa-legacy", "Serving", "mofa-consular"}, // retired, still serving: a finding
	{"mofa-consular", "Realization", "mofa-cap-consular"},
	{"mofa-consular-online", "Realization", "mofa-cap-consular"}, // a second one, no reason: a finding
	{"mofa-procedures", "Access", "mofa-do-dossiers"},
	{"mofa-dc", "Serving", "mofa-portal"},
	{"mofa-dc", "Serving", "mofa-dms"},
	{"mofa-dc", "Serving", "mofa-archive"},
	{"mofa-dms", "Flow", "mofa-archive"},
}

// DemoModel returns the demo ministry's model as an exchange-format
// document: its systems, linked to the national reference content (which
// it repeats so that the document stands alone), and one view of them.
func DemoModel() (*archimate.Model, error) {
	ref, refRels, err := Reference()
	if err != nil {
		return nil, err
	}
	m := &archimate.Model{ID: "id-mofa-architecture", Name: defaultInfo().Name}
	defs := map[string]string{}
	prop := func(name, v string) archimate.Property {
		id, ok := defs[name]
		if !ok {
			id = fmt.Sprintf("pd-%d", len(defs)+1)
			defs[name] = id
			m.PropertyDefs = append(m.PropertyDefs, archimate.PropertyDef{ID: id, Type: "string", Name: archimate.Text{{Text: name}}})
		}
		return archimate.Property{Ref: id, Value: archimate.Text{{Text: v}}}
	}
	for _, e := range ref {
		m.Elements = append(m.Elements, archimate.Element{ID: e.ID, Type: archimate.Type(e.Type), Name: e.Name, Properties: []archimate.Property{prop(propOrigin, string(OriginReference))}})
	}
	for _, r := range refRels {
		m.Relationships = append(m.Relationships, archimate.Relationship{ID: r.ID, Type: archimate.Type(r.Type), Source: r.Source, Target: r.Target})
	}
	for _, d := range demoElements {
		var ps []archimate.Property
		for _, kv := range [][2]string{{propOwnerUnit, d.owner}, {propLifecycle + "plan", d.plan}, {propLifecycle + "run", d.run}, {propLifecycle + "retire", d.end},
			{propCost, d.cost}, {propPrefix + "ARM", d.arm}, {propPrefix + "DRM", d.drm}, {propPrefix + "SRM", d.srm}} {
			if kv[1] != "" {
				ps = append(ps, prop(kv[0], kv[1]))
			}
		}
		for _, k := range []string{"data", "encryption-at-rest", "mfa", "audit", "exchange", PropComponent} {
			if v := d.props[k]; v != "" {
				ps = append(ps, prop(k, v))
			}
		}
		m.Elements = append(m.Elements, archimate.Element{ID: d.id, Type: archimate.Type(d.typ), Name: archimate.Text{{Lang: "vi", Text: d.vi}, {Lang: "en", Text: d.en}}, Properties: ps})
	}
	for i, r := range demoRelationships {
		m.Relationships = append(m.Relationships, archimate.Relationship{ID: fmt.Sprintf("mofa-r%02d", i+1), Type: archimate.Type(r[1]), Source: r[0], Target: r[2]})
	}
	m.Views = []archimate.View{demoView(m)}
	m.Organizations = []archimate.Item{{Label: archimate.Text{{Lang: "vi", Text: "Hệ thống của Bộ"}, {Lang: "en", Text: "Ministry systems"}}}}
	for _, d := range demoElements {
		m.Organizations[0].Items = append(m.Organizations[0].Items, archimate.Item{IdentifierRef: d.id})
	}
	return m, archimate.Check(m, 0)
}

// demoView lays the ministry's applications out in a row, the national
// platforms above and the data centre below, with every relationship
// among them.
func demoView(m *archimate.Model) archimate.View {
	v := archimate.View{ID: "mofa-view-overview", Type: "Diagram", Name: archimate.Text{{Lang: "vi", Text: "Tổng quan hệ thống Bộ Ngoại giao và nền tảng quốc gia"}, {Lang: "en", Text: "Ministry systems and national platforms"}}}
	rows := map[string][]string{
		"ref":  {"ref-ndxp", "ref-dvcqg", "ref-vneid-svc", "ref-db-population", "ref-db-population-svc", "ref-document-axis-svc"},
		"apps": {"mofa-portal", "mofa-dms", "mofa-procedures", "mofa-lgsp", "mofa-consular", "mofa-consular-online", "mofa-visa-legacy", "mofa-archive"},
		"low":  {"mofa-cap-consular", "mofa-do-dossiers", "mofa-dc"},
	}
	node := map[string]string{}
	for y, row := range []string{"ref", "apps", "low"} {
		for x, id := range rows[row] {
			nid := "n-" + id
			node[id] = nid
			v.Nodes = append(v.Nodes, archimate.Node{ID: nid, Type: "Element", ElementRef: id, X: 20 + x*170, Y: 20 + y*160, W: 150, H: 70})
		}
	}
	for _, r := range m.Relationships {
		s, ok1 := node[r.Source]
		t, ok2 := node[r.Target]
		if ok1 && ok2 {
			v.Connections = append(v.Connections, archimate.Connection{ID: "c-" + r.ID, Type: "Relationship", RelationshipRef: r.ID, Source: s, Target: t})
		}
	}
	return v
}

// SeedDemo imports DemoModel as sub (the demo's architect); the reference
// content must be synchronised first (SyncReference).
func SeedDemo(ctx context.Context, s *Service, sub authz.Subject) error {
	m, err := DemoModel()
	if err != nil {
		return fmt.Errorf("architecture: the demo model: %w", err)
	}
	b, err := archimate.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := s.Import(ctx, sub, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("architecture: import the demo model: %w", err)
	}
	return nil
}

// demoProposals are two investment proposals for the review page: a new
// e-visa portal that duplicates the consular applications, holds personal
// data without the controls and reads the population database past the
// exchange (the review shows the reuse and the findings it would bring;
// it awaits a decision), and an upgrade of the archive that gives it its
// reference-model category and multi-factor sign-in (approved).
func demoProposals() []Proposal {
	name := func(vi, en string) archimate.Text {
		return archimate.Text{{Lang: "vi", Text: vi}, {Lang: "en", Text: en}}
	}
	prop := func(kv ...string) []Property {
		var ps []Property
		for i := 0; i+1 < len(kv); i += 2 {
			ps = append(ps, Property{Name: kv[i], Value: archimate.Text{{Text: kv[i+1]}}})
		}
		return ps
	}
	return []Proposal{
		{ID: "mofa-p-evisa", Title: "Cổng thị thực điện tử thế hệ mới", Kind: "new",
			Elements: []Element{{ID: "mofa-evisa", Type: "ApplicationComponent", Name: name("Cổng thị thực điện tử", "E-visa portal"),
				Framework: Classification{ARM: "Ứng dụng nghiệp vụ lãnh sự"}, Lifecycle: Lifecycle{Plan: "2026-03-01"}, Properties: prop("data", "personal", "audit", "true")}},
			Relationships: []Relationship{
				{ID: "mofa-p-evisa-r1", Type: "Realization", Source: "mofa-evisa", Target: "mofa-cap-consular"},
				{ID: "mofa-p-evisa-r2", Type: "Flow", Source: "mofa-evisa", Target: "ref-db-population"},
			},
			Provides: []string{"mofa-cap-consular"}},
		{ID: "mofa-p-archive", Title: "Nâng cấp hệ thống lưu trữ tài liệu điện tử", Kind: "upgrade",
			Elements: []Element{{ID: "mofa-archive", Type: "ApplicationComponent", Name: name("Hệ thống lưu trữ tài liệu điện tử", "Digital archive system"),
				Framework: Classification{ARM: "Lưu trữ điện tử", SRM: "Mã hóa lưu trữ; xác thực đa yếu tố; nhật ký kiểm toán"}, Lifecycle: Lifecycle{Plan: "2023-01-01", Run: "2024-01-01"},
				Properties: prop("data", "classified", "encryption-at-rest", "true", "mfa", "true", "audit", "true")}},
			Provides: []string{"mofa-archive"}},
	}
}

// SeedDemoProposals enters the demo's proposals as the architect (ctx) and
// decides the archive's upgrade as the approver (approverCtx); proposals
// already there are left as they are.
func SeedDemoProposals(ctx context.Context, s *Service, architect authz.Subject, approverCtx context.Context, approver authz.Subject) error {
	for _, p := range demoProposals() {
		if _, err := getProposal(ctx, s.db, p.ID); err == nil {
			continue
		}
		if _, err := s.Propose(ctx, architect, p); err != nil {
			return fmt.Errorf("architecture: demo proposal %s: %w", p.ID, err)
		}
	}
	if p, err := getProposal(ctx, s.db, "mofa-p-archive"); err == nil && p.Status == "proposed" {
		if _, err := s.DecideProposal(approverCtx, approver, p.ID, true,
			"Nâng cấp bổ sung danh mục ARM và xác thực đa yếu tố cho hệ thống lưu giữ thông tin mật, khắc phục hai phát hiện tuân thủ; không phát sinh phát hiện mới, dùng lại hạ tầng của Trung tâm dữ liệu Bộ."); err != nil {
			return fmt.Errorf("architecture: decide the demo proposal: %w", err)
		}
	}
	return nil
}
