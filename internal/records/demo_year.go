package records

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
	"unicode"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// The full-year demo (issue 18, item 9): a year of the Office's, the
// Consular Department's and the Cipher-IT Department's documents up to
// the demo's start, incoming and outgoing, classified at each level their
// cleared staff hold, with the leaders' instructions, handling steps
// (some overdue), case files, and some scanned paper, so that every page
// has data and the assistant has a history to learn from. It is drawn
// from a fixed seed: the same start gives the same year. Everything goes
// through the service, with the service's clock set to each step's
// moment, so registers are numbered in date order and restart on
// 1 January as in use.

// demoSeed seeds the year's random choices.
const demoSeed = 18

// demoSender is an agency or mission documents come from: its name, its
// abbreviation and, for the công văn's symbol, its drafting division.
type demoSender struct{ name, org, division string }

var (
	sendVPCP      = demoSender{"Văn phòng Chính phủ", "VPCP", "QHQT"}
	sendBCA       = demoSender{"Bộ Công an", "BCA", "A08"}
	sendBCAA05    = demoSender{"Bộ Công an", "BCA", "A05"}
	sendBTC       = demoSender{"Bộ Tài chính", "BTC", "HCSN"}
	sendBQP       = demoSender{"Bộ Quốc phòng", "BQP", "ĐNQP"}
	sendBNV       = demoSender{"Bộ Nội vụ", "BNV", "TCCB"}
	sendBTP       = demoSender{"Bộ Tư pháp", "BTP", "HTQTCT"}
	sendBCT       = demoSender{"Bộ Công Thương", "BCT", "TTTN"}
	sendBCY       = demoSender{"Ban Cơ yếu Chính phủ", "BCY", "CTSBMTT"}
	sendHanoi     = demoSender{"Ủy ban nhân dân thành phố Hà Nội", "UBND", "NgV"}
	sendHCMC      = demoSender{"Ủy ban nhân dân Thành phố Hồ Chí Minh", "UBND", "NgV"}
	sendQuangNinh = demoSender{"Ủy ban nhân dân tỉnh Quảng Ninh", "UBND", "NgV"}
	sendDaNang    = demoSender{"Ủy ban nhân dân thành phố Đà Nẵng", "UBND", "NgV"}
	sendParis     = demoSender{"Đại sứ quán Việt Nam tại Pháp", "ĐSQ", "LS"}
	sendWashing   = demoSender{"Đại sứ quán Việt Nam tại Hoa Kỳ", "ĐSQ", "LS"}
	sendTokyo     = demoSender{"Đại sứ quán Việt Nam tại Nhật Bản", "ĐSQ", "LS"}
	sendMoscow    = demoSender{"Đại sứ quán Việt Nam tại Liên bang Nga", "ĐSQ", "LS"}
	sendBeijing   = demoSender{"Đại sứ quán Việt Nam tại Trung Quốc", "ĐSQ", "LS"}

	ministries = []demoSender{sendBCA, sendBTC, sendBQP, sendBNV, sendBTP, sendBCT}
	provinces  = []demoSender{sendHanoi, sendHCMC, sendQuangNinh, sendDaNang}
	embassies  = []demoSender{sendParis, sendWashing, sendTokyo, sendMoscow, sendBeijing}
)

// Fillers of the subjects.
var (
	demoCountries = []string{"Pháp", "Hoa Kỳ", "Nhật Bản", "Liên bang Nga", "Trung Quốc", "Hàn Quốc", "Ô-xtrây-li-a", "Đức", "Ấn Độ", "Lào"}
	demoDrafts    = []string{"Nghị định về công tác lễ tân nhà nước", "Luật Điều ước quốc tế (sửa đổi)", "Nghị định về quản lý đoàn ra, đoàn vào",
		"Quyết định về quy chế phát ngôn của Bộ", "Nghị định về cơ quan đại diện ở nước ngoài", "Thông tư về chế độ công tác phí nước ngoài"}
	demoEvents = []string{"Hội nghị xúc tiến đầu tư", "Diễn đàn hợp tác địa phương Việt Nam – Nhật Bản", "Lễ kỷ niệm Ngày Quốc khánh 2/9",
		"Hội nghị Ngoại vụ toàn quốc", "Tuần lễ văn hóa Việt Nam ở nước ngoài", "Hội nghị Việt kiều toàn thế giới"}
	demoMeetings = []string{"công tác đối ngoại 6 tháng đầu năm", "chuẩn bị chuyến thăm cấp nhà nước", "công tác bảo hộ công dân",
		"triển khai Chỉ thị về ngoại giao kinh tế", "công tác thông tin đối ngoại", "tổ chức Hội nghị cấp cao ASEAN"}
	demoCipherWorks = []string{"thay khóa mật mã định kỳ", "nâng cấp thiết bị mật mã", "kiểm tra an toàn hệ thống thư điện tử công vụ",
		"bảo đảm liên lạc mật mã cho đoàn cấp cao", "diễn tập ứng cứu sự cố an toàn thông tin", "rà soát hệ thống thông tin cấp độ 4"}
	demoMonths = []string{"tháng 1", "tháng 2", "tháng 3", "tháng 4", "tháng 5", "tháng 6", "tháng 7", "tháng 8", "tháng 9", "tháng 10", "tháng 11", "tháng 12"}
)

// demoTopic is a kind of document a unit receives or sends: its type,
// who sends it (incoming), its subject (a phrase after "V/v" or the
// type's name, with %s for one of fill), the unit that handles it, how
// urgent it tends to be, the highest level it is classified at, and the
// case file it goes into.
type demoTopic struct {
	typ      string
	senders  []demoSender
	subject  string
	fill     []string
	handler  string     // office | consular | cipher
	urgency  [4]float64 // weights of normal, urgent, very urgent, flash
	max      authz.Level
	caseFile int
}

var (
	calm   = [4]float64{8, 2, 0, 0}
	brisk  = [4]float64{3, 5, 2, 0}
	urgent = [4]float64{0, 3, 4, 3}
)

// demoCaseFileDef is a case file each unit opens every year.
type demoCaseFileDef struct {
	code, title string
	retention   Retention
}

// demoUnitPlan is a unit's year: how many documents, of which topics, at
// which levels, in which case files, issued under which symbols.
type demoUnitPlan struct {
	unit               string
	incoming, outgoing int
	// levels weighs the levels a classifiable document takes, from
	// Unclassified up.
	levels    []float64
	in, out   []demoTopic
	caseFiles []demoCaseFileDef
	as        IssueAs
}

var demoPlans = []demoUnitPlan{
	{
		unit: "office", incoming: 200, outgoing: 40, levels: []float64{3, 3, 4}, as: IssueAs{OrgSymbol: "BNG", UnitSymbol: "VP"},
		in: []demoTopic{
			{TypeOfficialLetter, ministries, "góp ý dự thảo %s", demoDrafts, "office", calm, authz.Unclassified, 0},
			{"thong_bao", []demoSender{sendVPCP}, "kết luận của Thủ tướng Chính phủ tại cuộc họp về %s", demoMeetings, "office", brisk, authz.Secret, 0},
			{"cong_dien", []demoSender{sendVPCP}, "việc triển khai %s", demoMeetings, "office", urgent, authz.Secret, 0},
			{"giay_moi", provinces, "dự %s", demoEvents, "office", brisk, authz.Unclassified, 1},
			{"bao_cao", embassies, "tình hình chính trị – kinh tế nước sở tại %s", demoMonths, "office", calm, authz.Secret, 2},
			{TypeOfficialLetter, embassies, "đề nghị hỗ trợ bảo hộ công dân Việt Nam tại %s", demoCountries, "consular", urgent, authz.Confidential, 3},
			{TypeOfficialLetter, []demoSender{sendBCA}, "phối hợp cấp hộ chiếu ngoại giao cho đoàn công tác đi %s", demoCountries, "consular", brisk, authz.Confidential, 3},
			{TypeOfficialLetter, []demoSender{sendBCY, sendBCAA05}, "%s", demoCipherWorks, "cipher", brisk, authz.Secret, 4},
			{"ke_hoach", provinces, "tổ chức %s năm 2026", demoEvents, "office", calm, authz.Unclassified, 1},
			{"quyet_dinh", []demoSender{sendBNV, sendBTC}, "phân bổ kinh phí đoàn ra %s", demoMonths, "office", calm, authz.Unclassified, 0},
		},
		out: []demoTopic{
			{"thong_bao", nil, "ý kiến kết luận của Lãnh đạo Bộ về %s", demoMeetings, "office", brisk, authz.Secret, 0},
			{"bao_cao", nil, "tổng hợp công tác đối ngoại %s", demoMonths, "office", calm, authz.Secret, 2},
			{"ke_hoach", nil, "tổ chức %s", demoEvents, "office", calm, authz.Unclassified, 1},
			{TypeOfficialLetter, nil, "trả lời góp ý dự thảo %s", demoDrafts, "office", calm, authz.Unclassified, 0},
			{"to_trinh", nil, "đề nghị phê duyệt chương trình %s", demoEvents, "office", brisk, authz.Confidential, 1},
		},
		caseFiles: []demoCaseFileDef{
			{"VP.02", "Văn bản chỉ đạo, điều hành của Chính phủ và Lãnh đạo Bộ về công tác chung", Permanent},
			{"VP.03", "Hồ sơ tổ chức hội nghị, sự kiện đối ngoại", 20},
			{"VP.04", "Báo cáo của các cơ quan đại diện", Permanent},
			{"VP.05", "Văn bản chuyển các đơn vị xử lý về lãnh sự", 10},
			{"VP.06", "Văn bản về cơ yếu, an toàn thông tin", 20},
		},
	},
	{
		unit: "consular", incoming: 110, outgoing: 60, levels: []float64{1, 1}, as: IssueAs{OrgSymbol: "CLS", UnitSymbol: "BHCD"},
		in: []demoTopic{
			{TypeOfficialLetter, embassies, "bảo hộ công dân Việt Nam bị tạm giữ tại %s", demoCountries, "consular", urgent, authz.Confidential, 0},
			{TypeOfficialLetter, []demoSender{sendBCA}, "xác minh nhân thân công dân xin cấp hộ chiếu tại %s", demoCountries, "consular", brisk, authz.Confidential, 1},
			{TypeOfficialLetter, []demoSender{sendBTP}, "hợp pháp hóa lãnh sự giấy tờ do %s cấp", demoCountries, "consular", calm, authz.Unclassified, 2},
			{TypeOfficialLetter, provinces, "xin thị thực cho đoàn địa phương đi %s", demoCountries, "consular", brisk, authz.Unclassified, 1},
			{"bao_cao", embassies, "công tác lãnh sự và bảo hộ công dân %s", demoMonths, "consular", calm, authz.Confidential, 0},
			{"giay_moi", provinces, "dự %s", demoEvents, "office", calm, authz.Unclassified, 3},
		},
		out: []demoTopic{
			{TypeOfficialLetter, nil, "hướng dẫn thủ tục hợp pháp hóa lãnh sự giấy tờ của %s", demoCountries, "consular", calm, authz.Unclassified, 2},
			{"quyet_dinh", nil, "cử cán bộ đi công tác bảo hộ công dân tại %s", demoCountries, "consular", brisk, authz.Unclassified, 0},
			{"bao_cao", nil, "công tác bảo hộ công dân %s", demoMonths, "consular", calm, authz.Confidential, 0},
			{"thong_bao", nil, "lịch tiếp công dân %s", demoMonths, "consular", calm, authz.Unclassified, 3},
		},
		caseFiles: []demoCaseFileDef{
			{"LS.01", "Hồ sơ bảo hộ công dân", Permanent},
			{"LS.02", "Hồ sơ hộ chiếu ngoại giao, công vụ", 20},
			{"LS.03", "Hồ sơ hợp pháp hóa, chứng nhận lãnh sự", 10},
			{"LS.04", "Văn bản chung của Cục", 10},
		},
	},
	{
		unit: "cipher", incoming: 100, outgoing: 45, levels: []float64{1, 1.5, 1.2, 3}, as: IssueAs{OrgSymbol: "CYCNTT", UnitSymbol: "CY"},
		in: []demoTopic{
			{"huong_dan", []demoSender{sendBCY}, "%s", demoCipherWorks, "cipher", calm, authz.TopSecret, 0},
			{TypeOfficialLetter, []demoSender{sendBCY, sendBQP}, "%s tại các cơ quan đại diện", demoCipherWorks, "cipher", brisk, authz.TopSecret, 0},
			{"bao_cao", embassies, "sự cố kỹ thuật đường truyền liên lạc %s", demoMonths, "cipher", urgent, authz.Secret, 1},
			{TypeOfficialLetter, []demoSender{sendBCAA05}, "cảnh báo nguy cơ tấn công mạng vào hệ thống %s", []string{"thư điện tử", "cổng thông tin", "quản lý văn bản", "dịch vụ công"}, "cipher", urgent, authz.Secret, 1},
			{"giay_moi", []demoSender{sendBCT, sendBCY}, "dự %s", demoEvents, "office", calm, authz.Unclassified, 2},
		},
		out: []demoTopic{
			{"ke_hoach", nil, "%s năm 2026", demoCipherWorks, "cipher", calm, authz.TopSecret, 0},
			{"phuong_an", nil, "bảo đảm %s", demoCipherWorks, "cipher", brisk, authz.TopSecret, 0},
			{"bao_cao", nil, "tình hình an toàn thông tin %s", demoMonths, "cipher", calm, authz.TopSecret, 1},
			{TypeOfficialLetter, nil, "hướng dẫn %s cho cơ quan đại diện", demoCipherWorks, "cipher", brisk, authz.Secret, 1},
		},
		caseFiles: []demoCaseFileDef{
			{"CY.01", "Hồ sơ quản lý khóa, thiết bị mật mã", Permanent},
			{"CY.02", "Hồ sơ sự cố, an toàn thông tin", 20},
			{"CY.03", "Văn bản chung của Cục", 10},
		},
	},
}

// demoYear carries the year's seeding.
type demoYear struct {
	s   *Service
	p   DemoPeople
	now time.Time
	rnd *rand.Rand
	// unit is the plan's index, for the documents' random streams.
	unit  uint64
	units map[string]int64
	// numbers counts each sender's symbols, for their numbers.
	numbers map[string]int
	// caseFiles are the case files opened, by unit, year and index.
	caseFiles map[demoCaseFileKey]int64
}

type demoCaseFileKey struct {
	unit       string
	year, file int
}

// seedDemoYear seeds the year before now. It needs the staff DemoPeople
// names, the clerks cleared for classified documents and the Cipher-IT
// Department's clerk and director among them.
func seedDemoYear(ctx context.Context, s *Service, p DemoPeople, now time.Time) error {
	for _, m := range []DemoStaff{p.OfficeSecretClerk, p.ConsularSecretClerk, p.CipherClerk, p.CipherApprover} {
		if m.Subject.ID == 0 {
			return fmt.Errorf("records: the demo's year needs the classified documents' clerks and the Cipher-IT Department's director in DemoPeople")
		}
	}
	y := &demoYear{s: s, p: p, now: now, rnd: rand.New(rand.NewPCG(demoSeed, 2026)), numbers: map[string]int{},
		caseFiles: map[demoCaseFileKey]int64{},
		units:     map[string]int64{"office": p.OfficeClerk.Subject.Unit, "consular": p.ConsularClerk.Subject.Unit, "cipher": p.CipherClerk.Subject.Unit}}
	for i, plan := range demoPlans {
		y.unit = uint64(i)
		if err := y.incoming(ctx, plan); err != nil {
			return err
		}
		if err := y.outgoing(ctx, plan); err != nil {
			return err
		}
	}
	return y.closeLastYear(ctx)
}

// at returns the service with its clock stopped at t, for a step the
// demo dates in the past.
func (s *Service) at(t time.Time) *Service {
	c := *s
	c.opts.Now = func() time.Time { return t }
	return &c
}

// reseed gives document i of direction dir (1 incoming, 2 outgoing) of
// the plan its own random stream, so that what is drawn for one document
// does not depend on the draws of those before it (which depend on how
// the days fall around the demo's start).
func (y *demoYear) reseed(dir, i int) {
	y.rnd = rand.New(rand.NewPCG(demoSeed, y.unit<<32|uint64(dir)<<24|uint64(i)))
}

// moments returns n working-day moments of the year before the demo's
// start (from 365 to 4 days before it), in order, in office hours of
// Hanoi.
func (y *demoYear) moments(n int) []time.Time {
	y.reseed(0, n)
	zone := registerZone()
	out := make([]time.Time, n)
	for i := range out {
		day := y.now.In(zone).AddDate(0, 0, -365+(361*i)/n)
		for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, -1)
		}
		out[i] = time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, zone).Add(time.Duration(y.rnd.IntN(8*60)) * time.Minute)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// pick returns an index drawn with the weights w.
func (y *demoYear) pick(w []float64) int {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	r := y.rnd.Float64() * sum
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// level draws a document's level: the unit's weights, capped by the
// topic's highest.
func (y *demoYear) level(plan demoUnitPlan, t demoTopic) authz.Level {
	return min(authz.Level(y.pick(plan.levels)), t.max)
}

// clerk is the unit's records clerk cleared for level l.
func (y *demoYear) clerk(unit string, l authz.Level) DemoStaff {
	switch {
	case unit == "cipher":
		return y.p.CipherClerk
	case unit == "consular" && l > authz.Unclassified:
		return y.p.ConsularSecretClerk
	case unit == "consular":
		return y.p.ConsularClerk
	case l > authz.Confidential:
		return y.p.OfficeSecretClerk
	}
	return y.p.OfficeClerk
}

// leader is the unit's leader, who instructs, approves and signs.
func (y *demoYear) leader(unit string) DemoStaff {
	return map[string]DemoStaff{"office": y.p.OfficeApprover, "consular": y.p.ConsularApprover, "cipher": y.p.CipherApprover}[unit]
}

// handler is who drafts and handles the unit's documents of level l.
func (y *demoYear) handler(unit string, l authz.Level) DemoStaff {
	switch unit {
	case "consular":
		return y.p.ConsularOfficer
	case "cipher":
		return y.p.CipherOfficer
	}
	return y.clerk(unit, l)
}

// subject returns a topic's subject and the text of the document: its
// heading as printed (a công văn's "V/v" line, or the type's name above
// the subject) and a paragraph.
func (y *demoYear) subject(t demoTopic) (subject, heading string) {
	phrase := t.subject
	if strings.Contains(phrase, "%s") {
		phrase = fmt.Sprintf(phrase, t.fill[y.rnd.IntN(len(t.fill))])
	}
	if t.typ == TypeOfficialLetter {
		return "V/v " + phrase, "V/v " + phrase
	}
	dt, _ := LookupType(t.typ)
	name, _, _ := strings.Cut(dt.NameVI, " (")
	r := []rune(phrase)
	return name + " " + phrase, strings.ToUpper(name) + "\n" + string(unicode.ToUpper(r[0])) + string(r[1:])
}

// content returns a document's file: one in five of the unclassified
// incoming ones scanned paper (a PNG, whose text the extractor reads),
// the others a PDF with the text.
func (y *demoYear) content(name, text string, scanned bool) (*Content, error) {
	if scanned {
		data, err := scanPNG(text)
		if err != nil {
			return nil, fmt.Errorf("records: demo scan: %w", err)
		}
		return &Content{Filename: name + ".png", MediaType: "image/png", Data: data}, nil
	}
	return &Content{Filename: name + ".pdf", MediaType: "application/pdf", Data: TextPDF(text), Text: text}, nil
}

// incoming registers the unit's incoming documents of the year, with
// their instructions, handling and filing.
func (y *demoYear) incoming(ctx context.Context, plan demoUnitPlan) error {
	moments := y.moments(plan.incoming)
	return y.inChunks(ctx, len(moments), func(ctx context.Context, i int) error {
		at := moments[i]
		y.reseed(1, i)
		t := plan.in[y.rnd.IntN(len(plan.in))]
		level := y.level(plan, t)
		from := t.senders[y.rnd.IntN(len(t.senders))]
		subject, heading := y.subject(t)
		dt, _ := LookupType(t.typ)
		symbol := from.org + "-" + from.division
		if t.typ != TypeOfficialLetter {
			symbol = dt.Abbr + "-" + from.org
		}
		y.numbers[from.name+symbol]++
		number := fmt.Sprintf("%d/%s", y.numbers[from.name+symbol]*3+y.rnd.IntN(3), symbol)
		date := at.AddDate(0, 0, -1-y.rnd.IntN(3))
		text := fmt.Sprintf("%s\nSố: %s\n%s\n\nKính gửi: Bộ Ngoại giao\n\nĐề nghị Quý Bộ xem xét, phối hợp xử lý theo thẩm quyền.",
			strings.ToUpper(from.name), number, heading)
		c, err := y.content(fmt.Sprintf("%s-den-%03d", plan.unit, i+1), text, level == authz.Unclassified && i%5 == 2)
		if err != nil {
			return err
		}
		in := NewIncoming{Type: t.typ, Number: number, Sender: from.name, Subject: subject, Date: date,
			Urgency: Urgency(y.pick(t.urgency[:])), Classify: Classify{Level: level}, Content: c}
		if level > authz.Unclassified {
			in.Reason, in.Source = "Danh mục bí mật nhà nước thuộc lĩnh vực ngoại giao", "độ mật do cơ quan gửi xác định"
		}
		clerk := y.clerk(plan.unit, level)
		d, err := y.s.at(at).RegisterIncoming(clerk.as(ctx), clerk.Subject, in)
		if err != nil {
			return fmt.Errorf("records: demo incoming %s %d: %w", plan.unit, i+1, err)
		}
		return y.handle(ctx, plan, t, d, at)
	})
}

// demoChunk is how many documents, with all their steps, the demo
// commits at once.
const demoChunk = 40

// inChunks runs step for 0..n-1, demoChunk of them to a transaction (each
// step's changes in savepoints of it: store.WithBulk), so that the year
// costs a few dozen commits instead of thousands and the demo starts in
// seconds.
func (y *demoYear) inChunks(ctx context.Context, n int, step func(ctx context.Context, i int) error) error {
	for start := 0; start < n; start += demoChunk {
		err := y.s.db.InTx(ctx, func(tx *store.Tx) error {
			bulk := store.WithBulk(ctx, y.s.db, tx)
			for i := start; i < min(n, start+demoChunk); i++ {
				if err := step(bulk, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// handle gives an incoming document its leader's instruction, its
// handling and its filing: most are handled before their deadline, some
// late, and of the last weeks' some are overdue.
func (y *demoYear) handle(ctx context.Context, plan demoUnitPlan, t demoTopic, d *Document, at time.Time) error {
	if y.rnd.IntN(10) == 0 {
		return nil // registered, waiting for the leader
	}
	lead, leadUnit := y.leader(plan.unit), y.units[t.handler]
	assigned := at.Add(time.Duration(1+y.rnd.IntN(5)) * time.Hour)
	deadline := assigned.AddDate(0, 0, 5+y.rnd.IntN(10))
	in := Instruction{Text: "Giao đơn vị chủ trì nghiên cứu, xử lý; báo cáo Lãnh đạo kết quả.", Lead: AssignTo{UnitID: leadUnit}, Deadline: deadline}
	if t.handler != "office" && y.rnd.IntN(4) == 0 {
		in.Support = []AssignTo{{UnitID: y.units["office"]}}
	}
	if _, err := y.s.at(assigned).Assign(lead.as(ctx), lead.Subject, d.ID, in); err != nil {
		return fmt.Errorf("records: demo instruction on %d: %w", d.ID, err)
	}
	h := y.handler(t.handler, d.Classification)
	step := assigned.AddDate(0, 0, 1+y.rnd.IntN(3))
	if step.Before(y.now) && y.rnd.IntN(3) > 0 {
		if _, err := y.s.at(step).Comment(h.as(ctx), h.Subject, d.ID, "Đã nghiên cứu, đang dự thảo văn bản trả lời, xin ý kiến các đơn vị liên quan."); err != nil {
			return fmt.Errorf("records: demo handling step on %d: %w", d.ID, err)
		}
	}
	// Done in time (most), or late (one in eight); of the last weeks'
	// documents, one in three is still open.
	done := deadline.AddDate(0, 0, -1-y.rnd.IntN(3))
	if y.rnd.IntN(8) == 0 {
		done = deadline.AddDate(0, 0, 1+y.rnd.IntN(5))
	}
	if !done.After(step) {
		done = step.Add(time.Hour)
	}
	if done.After(y.now) || y.now.Sub(at) < 30*24*time.Hour && y.rnd.IntN(3) == 0 {
		return nil
	}
	if _, err := y.s.at(done).Complete(h.as(ctx), h.Subject, d.ID, "Đã xử lý xong, báo cáo Lãnh đạo."); err != nil {
		return fmt.Errorf("records: demo completion of %d: %w", d.ID, err)
	}
	return y.file(ctx, plan, t, d, done)
}

// file files a document into the topic's case file of the document's
// year, opened on its first use, two documents in three.
func (y *demoYear) file(ctx context.Context, plan demoUnitPlan, t demoTopic, d *Document, at time.Time) error {
	if y.rnd.IntN(3) == 0 {
		return nil
	}
	year := d.CreatedAt.In(registerZone()).Year()
	clerk := y.clerk(plan.unit, d.Classification)
	key := demoCaseFileKey{plan.unit, year, t.caseFile}
	id, ok := y.caseFiles[key]
	if !ok {
		def := plan.caseFiles[t.caseFile]
		cf, err := y.s.at(at).CreateCaseFile(clerk.as(ctx), clerk.Subject, NewCaseFile{Year: year, Code: def.code, Title: def.title,
			RetentionYears: def.retention})
		if err != nil {
			return fmt.Errorf("records: demo case file %s/%d: %w", def.code, year, err)
		}
		id, y.caseFiles[key] = cf.ID, cf.ID
	}
	if err := y.s.at(at).File(clerk.as(ctx), clerk.Subject, id, d.ID); err != nil {
		return fmt.Errorf("records: demo filing of %d: %w", d.ID, err)
	}
	return nil
}

// outgoing drafts, approves, signs and issues the unit's outgoing
// documents of the year; the last few stay at a step of their way, and
// one in twenty-five issued is recalled.
func (y *demoYear) outgoing(ctx context.Context, plan demoUnitPlan) error {
	moments := y.moments(plan.outgoing)
	lead := y.leader(plan.unit)
	return y.inChunks(ctx, len(moments), func(ctx context.Context, i int) error {
		at := moments[i]
		y.reseed(2, i)
		t := plan.out[y.rnd.IntN(len(plan.out))]
		level := y.level(plan, t)
		subject, heading := y.subject(t)
		text := fmt.Sprintf("BỘ NGOẠI GIAO\n%s\n\n%s", heading, "Căn cứ chức năng, nhiệm vụ được giao; theo đề nghị của đơn vị chủ trì.")
		c, err := y.content(fmt.Sprintf("%s-di-%03d", plan.unit, i+1), text, false)
		if err != nil {
			return err
		}
		nd := NewDraft{Type: t.typ, Subject: subject, Urgency: Urgency(y.pick(t.urgency[:])), Classify: Classify{Level: level}, Content: c}
		if level > authz.Unclassified {
			nd.Reason = "Danh mục bí mật nhà nước thuộc lĩnh vực ngoại giao"
		} else if y.rnd.IntN(5) == 0 {
			for _, u := range []string{"office", "consular", "cipher"} {
				if u != plan.unit {
					nd.Shared = append(nd.Shared, y.units[u])
				}
			}
		}
		author := y.handler(plan.unit, level)
		d, err := y.s.at(at.AddDate(0, 0, -3)).StartDraft(author.as(ctx), author.Subject, nd)
		if err != nil {
			return fmt.Errorf("records: demo draft %s %d: %w", plan.unit, i+1, err)
		}
		left := len(moments) - i // the last three stay a draft, approved, signed
		if left == 3 {
			return nil
		}
		if _, err := y.s.at(at.AddDate(0, 0, -2)).Approve(lead.as(ctx), lead.Subject, d.ID, "Đồng ý nội dung, trình ký."); err != nil {
			return fmt.Errorf("records: demo approval of %d: %w", d.ID, err)
		}
		if left == 2 {
			return nil
		}
		if _, err := y.s.at(at.AddDate(0, 0, -1)).Sign(lead.as(ctx), lead.Subject, d.ID, ""); err != nil {
			return fmt.Errorf("records: demo signature of %d: %w", d.ID, err)
		}
		if left == 1 {
			return nil
		}
		clerk := y.clerk(plan.unit, level)
		as := plan.as
		if t.typ != TypeOfficialLetter {
			as.UnitSymbol = ""
		}
		if _, err := y.s.at(at).Issue(clerk.as(ctx), clerk.Subject, d.ID, as); err != nil {
			return fmt.Errorf("records: demo issuance of %d: %w", d.ID, err)
		}
		if i%25 == 7 {
			if _, err := y.s.at(at.AddDate(0, 0, 2)).Recall(lead.as(ctx), lead.Subject, d.ID, "Văn bản có sai sót về thể thức; sẽ ban hành văn bản thay thế."); err != nil {
				return fmt.Errorf("records: demo recall of %d: %w", d.ID, err)
			}
			return nil
		}
		return y.file(ctx, plan, t, d, at.Add(time.Hour))
	})
}

// closeLastYear closes the case files of the years before the demo's.
func (y *demoYear) closeLastYear(ctx context.Context) error {
	year := y.now.In(registerZone()).Year()
	keys := make([]demoCaseFileKey, 0, len(y.caseFiles))
	for k := range y.caseFiles {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return y.caseFiles[keys[i]] < y.caseFiles[keys[j]] })
	for _, k := range keys {
		if k.year >= year {
			continue
		}
		clerk := y.clerk(k.unit, authz.Unclassified)
		jan := time.Date(year, 1, 5, 9, 0, 0, 0, registerZone())
		if err := y.s.at(jan).CloseCaseFile(clerk.as(ctx), clerk.Subject, y.caseFiles[k]); err != nil {
			return fmt.Errorf("records: demo closing of case file %d: %w", y.caseFiles[k], err)
		}
	}
	return nil
}

// TextPDF returns a one-page PDF showing text, folded to the ASCII its
// standard font prints, with a correct cross-reference table, that a
// text extractor can read: the demo's files, and tests' uploads.
func TextPDF(text string) []byte {
	var stream strings.Builder
	stream.WriteString("BT /F1 11 Tf 56 780 Td 14 TL\n")
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.Map(func(r rune) rune {
			if r > 126 || r < 32 {
				return -1
			}
			return r
		}, foldKeepCase(l))
		l = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
		fmt.Fprintf(&stream, "(%s) Tj T*\n", l)
	}
	stream.WriteString("ET")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", stream.Len(), stream.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return []byte(b.String())
}

// foldKeepCase removes Vietnamese diacritics (đ as d) keeping the case.
func foldKeepCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		f := identity.Fold(string(r))
		if unicode.IsUpper(r) {
			f = strings.ToUpper(f)
		}
		b.WriteString(f)
	}
	return b.String()
}
