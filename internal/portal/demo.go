package portal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

// DemoStaff is a demo staff member the demo's publications are written
// or approved by.
type DemoStaff struct {
	Subject  authz.Subject
	Username string
}

// demoItem is a demo publication: days before now it was published
// (negative: left submitted, awaiting the spokesperson).
type demoItem struct {
	daysAgo int
	c       Content
}

func demoContent(kind Kind, slug, titleVI, titleEN, bodyVI, bodyEN string, tags ...string) Content {
	return Content{Kind: kind, Slug: slug, TitleVI: titleVI, TitleEN: titleEN, BodyVI: bodyVI, BodyEN: bodyEN, Tags: tags}
}

// demoItems are illustrative: the demo ministry's news, not real events.
var demoItems = []demoItem{
	{1, demoContent(Statement, "statement-on-the-east-sea",
		"Phát ngôn của Người phát ngôn Bộ Ngoại giao về tình hình Biển Đông",
		"Statement by the Ministry of Foreign Affairs' spokesperson on the East Sea",
		"Việt Nam kiên trì giải quyết các tranh chấp bằng biện pháp hòa bình, trên cơ sở luật pháp quốc tế, đặc biệt là Công ước Liên hợp quốc về Luật Biển năm 1982.\n\nViệt Nam đề nghị các bên liên quan tôn trọng quyền chủ quyền và quyền tài phán của Việt Nam, không có hành động làm phức tạp thêm tình hình.",
		"Viet Nam consistently settles disputes by peaceful means, on the basis of international law, in particular the 1982 United Nations Convention on the Law of the Sea.\n\nViet Nam asks the parties concerned to respect its sovereign rights and jurisdiction and to refrain from actions that complicate the situation.",
		"Biển Đông", "UNCLOS")},
	{2, demoContent(PressRelease, "regular-press-briefing",
		"Họp báo thường kỳ của Bộ Ngoại giao",
		"The Ministry of Foreign Affairs' regular press briefing",
		"Người phát ngôn Bộ Ngoại giao chủ trì họp báo thường kỳ, thông tin về các hoạt động đối ngoại nổi bật trong tuần và trả lời câu hỏi của phóng viên trong và ngoài nước.\n\nBiên bản họp báo được đăng tải đầy đủ trên cổng thông tin.",
		"The Ministry's spokesperson held the regular press briefing on the week's main foreign-affairs activities and answered questions from domestic and foreign reporters.\n\nThe full transcript is published on the portal.",
		"Họp báo")},
	{3, demoContent(News, "asean-foreign-ministers-meeting",
		"Bộ trưởng Ngoại giao dự Hội nghị Bộ trưởng Ngoại giao ASEAN",
		"The Foreign Minister attends the ASEAN Foreign Ministers' Meeting",
		"Bộ trưởng Ngoại giao dẫn đầu đoàn Việt Nam dự Hội nghị Bộ trưởng Ngoại giao ASEAN, thảo luận về xây dựng Cộng đồng ASEAN và các vấn đề khu vực.\n\nBộ trưởng nhấn mạnh vai trò trung tâm của ASEAN và tinh thần đoàn kết của Hiệp hội.",
		"The Foreign Minister led Viet Nam's delegation to the ASEAN Foreign Ministers' Meeting, which discussed building the ASEAN Community and regional issues.\n\nThe Minister stressed ASEAN's centrality and the Association's solidarity.",
		"ASEAN", "Ngoại giao đa phương")},
	{5, demoContent(News, "citizen-protection-after-the-typhoon",
		"Bảo hộ công dân Việt Nam sau bão tại Nhật Bản",
		"Protecting Vietnamese citizens after the typhoon in Japan",
		"Đại sứ quán Việt Nam tại Nhật Bản và Tổng Lãnh sự quán tại Osaka đã liên hệ với cộng đồng người Việt tại các vùng bị ảnh hưởng; chưa ghi nhận công dân Việt Nam bị thương vong.\n\nCông dân cần hỗ trợ xin gọi đường dây nóng bảo hộ công dân của cơ quan đại diện.",
		"The Embassy of Viet Nam in Japan and the Consulate General in Osaka have reached the Vietnamese community in the affected areas; no Vietnamese casualties have been reported.\n\nCitizens who need help should call the mission's citizen protection hotline.",
		"Bảo hộ công dân", "Nhật Bản")},
	{7, demoContent(PressRelease, "viet-nam-france-strategic-partnership",
		"Thông cáo báo chí về chuyến thăm Pháp của Thủ tướng",
		"Press release on the Prime Minister's visit to France",
		"Nhận lời mời của Thủ tướng Cộng hòa Pháp, Thủ tướng Chính phủ thăm chính thức Cộng hòa Pháp, góp phần làm sâu sắc quan hệ Đối tác chiến lược Việt Nam – Pháp.\n\nHai bên ký kết các văn kiện hợp tác về giáo dục, y tế và chuyển đổi năng lượng.",
		"At the invitation of the Prime Minister of France, the Prime Minister paid an official visit to France, deepening the Viet Nam – France Strategic Partnership.\n\nThe two sides signed cooperation documents on education, health and the energy transition.",
		"Pháp", "Đối tác chiến lược")},
	{9, demoContent(Statement, "statement-on-the-un-resolution",
		"Phát ngôn về nghị quyết của Đại hội đồng Liên hợp quốc",
		"Statement on the United Nations General Assembly resolution",
		"Việt Nam hoan nghênh việc Đại hội đồng Liên hợp quốc thông qua nghị quyết, thể hiện cam kết chung của cộng đồng quốc tế đối với chủ nghĩa đa phương.\n\nViệt Nam sẵn sàng đóng góp tích cực vào việc triển khai nghị quyết.",
		"Viet Nam welcomes the General Assembly's adoption of the resolution, which shows the international community's shared commitment to multilateralism.\n\nViet Nam stands ready to contribute actively to carrying it out.",
		"Liên hợp quốc", "Ngoại giao đa phương")},
	{12, demoContent(News, "online-consular-legalisation",
		"Hợp pháp hóa lãnh sự trực tuyến toàn trình",
		"Consular legalisation fully online",
		"Từ nay, công dân và tổ chức có thể nộp hồ sơ chứng nhận, hợp pháp hóa lãnh sự trực tuyến toàn trình trên Cổng thông tin điện tử của Bộ và theo dõi tình trạng hồ sơ bằng mã hồ sơ.\n\nKết quả điện tử có chữ ký số và mã QR để kiểm tra tính xác thực.",
		"Citizens and organisations can now apply for consular authentication and legalisation fully online on the Ministry's electronic portal and follow their dossier with its code.\n\nElectronic results carry a digital signature and a QR code to check them.",
		"Dịch vụ công trực tuyến", "Lãnh sự")},
	{15, demoContent(PressRelease, "overseas-vietnamese-conference",
		"Hội nghị người Việt Nam ở nước ngoài toàn thế giới",
		"World conference of overseas Vietnamese",
		"Ủy ban Nhà nước về người Việt Nam ở nước ngoài tổ chức Hội nghị với sự tham dự của hơn 500 đại biểu kiều bào từ hơn 40 quốc gia và vùng lãnh thổ.\n\nHội nghị thảo luận việc phát huy nguồn lực kiều bào cho phát triển đất nước.",
		"The State Committee for Overseas Vietnamese Affairs held the conference, attended by over 500 overseas Vietnamese from more than 40 countries and territories.\n\nIt discussed how overseas Vietnamese can contribute to the country's development.",
		"Kiều bào")},
	{18, demoContent(News, "japan-viet-nam-economic-cooperation",
		"Thúc đẩy hợp tác kinh tế Việt Nam – Nhật Bản",
		"Advancing Viet Nam – Japan economic cooperation",
		"Đại sứ quán Việt Nam tại Nhật Bản phối hợp tổ chức diễn đàn xúc tiến đầu tư với sự tham gia của hơn 200 doanh nghiệp hai nước.\n\nCác bên trao đổi về chuỗi cung ứng, bán dẫn và kinh tế xanh.",
		"The Embassy of Viet Nam in Japan co-hosted an investment promotion forum attended by over 200 businesses of the two countries.\n\nThey discussed supply chains, semiconductors and the green economy.",
		"Nhật Bản", "Ngoại giao kinh tế")},
	{21, demoContent(Statement, "statement-on-citizens-in-the-middle-east",
		"Phát ngôn về bảo hộ công dân Việt Nam tại Trung Đông",
		"Statement on protecting Vietnamese citizens in the Middle East",
		"Bộ Ngoại giao đã chỉ đạo các cơ quan đại diện tại khu vực theo dõi sát tình hình, sẵn sàng các phương án bảo hộ công dân.\n\nCông dân Việt Nam trong khu vực cần theo dõi khuyến cáo đi lại và giữ liên lạc với cơ quan đại diện.",
		"The Ministry has instructed the missions in the region to follow the situation closely and keep citizen protection plans ready.\n\nVietnamese citizens in the region should follow the travel advisories and stay in touch with the missions.",
		"Bảo hộ công dân")},
	{25, demoContent(News, "vietnamese-culture-week-in-brazil",
		"Tuần Văn hóa Việt Nam tại Brazil",
		"Viet Nam Culture Week in Brazil",
		"Đại sứ quán Việt Nam tại Brazil tổ chức Tuần Văn hóa Việt Nam tại Brasília với triển lãm ảnh, ẩm thực và biểu diễn nghệ thuật truyền thống.\n\nSự kiện thu hút đông đảo công chúng sở tại.",
		"The Embassy of Viet Nam in Brazil held a Viet Nam Culture Week in Brasília with a photo exhibition, food and traditional performances.\n\nThe event drew large local audiences.",
		"Ngoại giao văn hóa", "Brazil")},
	{30, demoContent(PressRelease, "new-ambassadors-appointed",
		"Bổ nhiệm Đại sứ đặc mệnh toàn quyền nhiệm kỳ mới",
		"New ambassadors appointed",
		"Chủ tịch nước trao quyết định bổ nhiệm các Đại sứ đặc mệnh toàn quyền Việt Nam tại một số quốc gia và tổ chức quốc tế nhiệm kỳ mới.\n\nCác Đại sứ cam kết hoàn thành tốt nhiệm vụ, chăm lo cộng đồng người Việt ở nước ngoài.",
		"The State President presented the appointment decisions of Viet Nam's new ambassadors to several countries and international organisations.\n\nThe ambassadors pledged to serve well and to look after the Vietnamese communities abroad.",
		"Cơ quan đại diện")},
	{-1, demoContent(News, "draft-digital-transformation-forum",
		"Diễn đàn chuyển đổi số ngành ngoại giao",
		"Forum on the diplomatic service's digital transformation",
		"Bộ Ngoại giao tổ chức diễn đàn về chuyển đổi số, giới thiệu nền tảng số dùng chung của Bộ.\n\nTin đang chờ Người phát ngôn duyệt.",
		"The Ministry held a forum on digital transformation, presenting its shared digital platform.\n\nThis item awaits the spokesperson's approval.",
		"Chuyển đổi số")},
}

// demoAdvisories are travel advisories by country: level, days ago,
// and the text.
var demoAdvisories = []struct {
	country          string
	level, daysAgo   int
	titleVI, titleEN string
	bodyVI, bodyEN   string
}{
	{"FR", LevelNormal, 40, "Pháp: thận trọng thông thường", "France: exercise normal caution",
		"Tình hình an ninh ổn định. Công dân lưu ý giữ gìn giấy tờ tùy thân ở nơi đông người.", "The security situation is stable. Keep your papers safe in crowded places."},
	{"JP", LevelIncreased, 6, "Nhật Bản: tăng cường thận trọng trong mùa bão", "Japan: exercise increased caution in the typhoon season",
		"Theo dõi thông báo của cơ quan khí tượng Nhật Bản và chính quyền địa phương; chuẩn bị sẵn đồ dùng thiết yếu.", "Follow the Japan Meteorological Agency's and local authorities' notices; keep essentials ready."},
	{"EG", LevelIncreased, 20, "Ai Cập: tăng cường thận trọng", "Egypt: exercise increased caution",
		"Tránh khu vực biên giới và các cuộc tụ tập đông người; đăng ký công dân với Đại sứ quán.", "Avoid border areas and large gatherings; register with the Embassy."},
	{"ZA", LevelIncreased, 28, "Nam Phi: tăng cường thận trọng", "South Africa: exercise increased caution",
		"Tội phạm đường phố gia tăng tại một số thành phố; không mang theo nhiều tiền mặt.", "Street crime is rising in some cities; do not carry much cash."},
	{"HT", LevelDoNotGo, 10, "Haiti: không đi đến", "Haiti: do not travel",
		"Tình hình an ninh hết sức phức tạp. Công dân đang ở Haiti cần liên hệ ngay Phái đoàn thường trực tại Liên hợp quốc (New York) để được hỗ trợ.", "The security situation is extremely serious. Citizens in Haiti should contact the Permanent Mission to the United Nations (New York) at once for help."},
	{"ID", LevelReconsider, 14, "Indonesia: cân nhắc lại việc đến vùng núi lửa đang hoạt động", "Indonesia: reconsider travel to areas of active volcanoes",
		"Không đến gần các núi lửa mà cơ quan chức năng Indonesia đã nâng mức cảnh báo; theo dõi thông báo sơ tán.", "Keep away from the volcanoes whose alert level Indonesia's authorities have raised; follow evacuation notices."},
}

// demoMissions are the demo missions' public details, by agency code;
// illustrative, as the demo's units are.
var demoMissions = map[string]MissionDetails{
	"000.01.01.G12": {AmbassadorVI: "Đại sứ Nguyễn Quốc Dũng", AmbassadorEN: "Ambassador Nguyen Quoc Dung", Address: "1233 20th Street NW, Suite 400, Washington, DC 20036, United States", Phone: "+1 202 861 0737", Email: "washington@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:30–12:30 và 14:00–17:00", HoursEN: "Monday – Friday, 9:30–12:30 and 14:00–17:00", Hotline: "+1 202 286 7768"},
	"000.01.02.G12": {AmbassadorVI: "Đại sứ Trần Thị Minh Nguyệt", AmbassadorEN: "Ambassador Tran Thi Minh Nguyet", Address: "62 rue Boileau, 75016 Paris, France", Phone: "+33 1 44 14 64 00", Email: "paris@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00 (trừ ngày lễ)", HoursEN: "Monday – Friday, 9:00–12:00 (closed on holidays)", Hotline: "+33 6 12 34 56 78"},
	"000.01.03.G12": {AmbassadorVI: "Đại sứ Phạm Quang Hiệu", AmbassadorEN: "Ambassador Pham Quang Hieu", Address: "50-11 Motoyoyogi-cho, Shibuya-ku, Tokyo 151-0062, Japan", Phone: "+81 3 3466 3311", Email: "tokyo@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:30–12:00 và 14:00–17:00", HoursEN: "Monday – Friday, 9:30–12:00 and 14:00–17:00", Hotline: "+81 80 3590 1119"},
	"000.01.04.G12": {AmbassadorVI: "Đại sứ Phạm Hùng Tâm", AmbassadorEN: "Ambassador Pham Hung Tam", Address: "6 Timbarra Crescent, O'Malley ACT 2606, Australia", Phone: "+61 2 6286 6059", Email: "canberra@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00", HoursEN: "Monday – Friday, 9:00–12:00", Hotline: "+61 416 600 699"},
	"000.01.05.G12": {AmbassadorVI: "Đại sứ Hoàng Văn Lợi", AmbassadorEN: "Ambassador Hoang Van Loi", Address: "87 Brooks Street, Brooklyn, Pretoria 0181, South Africa", Phone: "+27 12 362 8119", Email: "pretoria@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 8:30–12:30", HoursEN: "Monday – Friday, 8:30–12:30", Hotline: "+27 79 700 5552"},
	"000.01.06.G12": {AmbassadorVI: "Đại sứ Bùi Văn Nghị", AmbassadorEN: "Ambassador Bui Van Nghi", Address: "SEN Avenida das Nações, Lote 14, Brasília – DF, Brazil", Phone: "+55 61 3364 5876", Email: "brasilia@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00", HoursEN: "Monday – Friday, 9:00–12:00", Hotline: "+55 61 99999 0101"},
	"000.01.07.G12": {AmbassadorVI: "Đại sứ Đặng Minh Khôi", AmbassadorEN: "Ambassador Dang Minh Khoi", Address: "13 Bolshaya Pirogovskaya, 119021 Moscow, Russian Federation", Phone: "+7 495 245 0925", Email: "moscow@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00 và 14:30–17:30", HoursEN: "Monday – Friday, 9:00–12:00 and 14:30–17:30", Hotline: "+7 985 409 7777"},
	"000.01.08.G12": {AmbassadorVI: "Đại sứ Phạm Thanh Bình", AmbassadorEN: "Ambassador Pham Thanh Binh", Address: "32 Guanghua Road, Jianguomenwai, Chaoyang District, Beijing 100600, China", Phone: "+86 10 6532 1155", Email: "beijing@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 8:30–11:30 và 14:30–17:00", HoursEN: "Monday – Friday, 8:30–11:30 and 14:30–17:00", Hotline: "+86 139 1013 6996"},
	"000.01.09.G12": {AmbassadorVI: "Đại sứ Nguyễn Huy Dũng", AmbassadorEN: "Ambassador Nguyen Huy Dung", Address: "8 Madina El Monawara Street, Mohandessin, Giza, Egypt", Phone: "+20 2 3336 8402", Email: "cairo@mofa.gov.vn", HoursVI: "Chủ Nhật – Thứ Năm, 9:00–13:00", HoursEN: "Sunday – Thursday, 9:00–13:00", Hotline: "+20 100 636 0404"},
	"000.02.01.G12": {AmbassadorVI: "Tổng Lãnh sự Đỗ Hoàng Long", AmbassadorEN: "Consul General Do Hoang Long", Address: "1700 California Street, Suite 580, San Francisco, CA 94109, United States", Phone: "+1 415 922 1707", Email: "sanfrancisco@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00 và 14:00–16:30", HoursEN: "Monday – Friday, 9:00–12:00 and 14:00–16:30", Hotline: "+1 415 407 1889"},
	"000.02.02.G12": {AmbassadorVI: "Tổng Lãnh sự Ngô Trịnh Hà", AmbassadorEN: "Consul General Ngo Trinh Ha", Address: "4-2-15 Nishi-ku, Osaka 550-0005, Japan", Phone: "+81 6 6263 1600", Email: "osaka@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00 và 13:30–17:00", HoursEN: "Monday – Friday, 9:00–12:00 and 13:30–17:00", Hotline: "+81 90 1245 6789"},
	"000.03.01.G12": {AmbassadorVI: "Đại sứ Đặng Hoàng Giang", AmbassadorEN: "Ambassador Dang Hoang Giang", Address: "866 United Nations Plaza, Suite 435, New York, NY 10017, United States", Phone: "+1 212 644 0594", Email: "un@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–17:00", HoursEN: "Monday – Friday, 9:00–17:00", Hotline: "+1 917 963 9696"},
	"000.03.02.G12": {AmbassadorVI: "Đại sứ Mai Phan Dũng", AmbassadorEN: "Ambassador Mai Phan Dung", Address: "Chemin François-Lehmann 18A, 1218 Grand-Saconnex, Geneva, Switzerland", Phone: "+41 22 798 2485", Email: "geneva@mofa.gov.vn", HoursVI: "Thứ Hai – Thứ Sáu, 9:00–12:00", HoursEN: "Monday – Friday, 9:00–12:00", Hotline: "+41 78 800 1234"},
}

// at returns the service with its clock stopped at t: the demo's
// publications are dated over the past weeks.
func (s *Service) at(t time.Time) *Service {
	c := *s
	c.opts.Now = func() time.Time { return t }
	return &c
}

// SeedDemo fills a new demo database with the portal's content: a dozen
// published news items, press releases and statements in Vietnamese and
// English, one waiting for the spokesperson, travel advisories for
// several countries, and the demo missions' public details (those the
// directory holds). press drafts, spokes approves, as they would.
func SeedDemo(ctx context.Context, s *Service, press, spokes DemoStaff, now time.Time) error {
	as := func(d DemoStaff) context.Context {
		return audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(d.Subject.ID, d.Username), UnitID: d.Subject.Unit})
	}
	publish := func(c Content, daysAgo int) error {
		at := s.at(now.Add(-time.Duration(daysAgo)*24*time.Hour - 3*time.Hour))
		it, err := at.Create(as(press), press.Subject, c)
		if err != nil {
			return fmt.Errorf("portal: demo %s: %w", c.Slug, err)
		}
		if it, err = at.Move(as(press), press.Subject, it.ID, StepRequest{Step: StepSubmit, Version: it.Version}); err != nil {
			return err
		}
		if daysAgo < 0 {
			return nil // left for the spokesperson
		}
		_, err = s.at(now.Add(-time.Duration(daysAgo)*24*time.Hour)).Move(as(spokes), spokes.Subject, it.ID,
			StepRequest{Step: StepApprove, Version: it.Version, Publish: true})
		return err
	}
	for _, d := range demoItems {
		if err := publish(d.c, d.daysAgo); err != nil {
			return err
		}
	}
	for _, a := range demoAdvisories {
		c := Content{Kind: Advisory, Slug: "advisory-" + Slugify(a.country) + "-" + Slugify(a.titleEN), TitleVI: a.titleVI, TitleEN: a.titleEN,
			BodyVI: a.bodyVI, BodyEN: a.bodyEN, Country: a.country, Level: a.level}
		if err := publish(c, a.daysAgo); err != nil {
			return err
		}
	}
	for code, d := range demoMissions {
		if _, err := s.UpdateMission(as(press), press.Subject, code, d); err != nil && !errors.Is(err, errs.ErrNotFound) {
			return fmt.Errorf("portal: demo mission %s: %w", code, err)
		}
	}
	return nil
}
