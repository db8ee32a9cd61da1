package govsim

// record is one citizen of the demo dataset: identity number, full name,
// date of birth, sex, place of origin (quê quán), permanent address
// (nơi thường trú) and the date the card was issued.
type record struct {
	id, name, born string
	sex            Sex
	origin, addr   string
	issued         string
}

// demoCitizens is the simulator's dataset: fictional people with
// Vietnamese names in the usual order (family, middle, given), living in
// provinces across the country. Addresses follow the two-level
// administration (commune or ward, then province) in force since the
// merger of 1 July 2025; identity numbers keep the province code of the
// birth registration, which may be a province that has since merged.
//
// The first two are the demo portal's citizens (internal/demo): Nguyễn
// Thị Lan and Trần Văn Minh, who lives in France and keeps his permanent
// address at home.
var demoCitizens = []record{
	{"001188004215", "Nguyễn Thị Lan", "1988-03-14", Female, "Xã Phú Xuyên, Thành phố Hà Nội", "Số 18 ngõ 95 phố Chùa Bộc, phường Kim Liên, Thành phố Hà Nội", "2021-04-20"},
	{"036079001187", "Trần Văn Minh", "1979-11-02", Male, "Xã Hải Hậu, tỉnh Ninh Bình", "Số 27 đường Trần Hưng Đạo, phường Nam Định, tỉnh Ninh Bình", "2021-08-10"},
	{"038065002341", "Lê Văn Hùng", "1965-07-21", Male, "Xã Hoằng Hóa, tỉnh Thanh Hóa", "Số 45 đường Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa", "2021-03-05"},
	{"031192008876", "Phạm Thị Hồng", "1992-12-30", Female, "Xã Vĩnh Bảo, Thành phố Hải Phòng", "Số 9 phố Lạch Tray, phường Gia Viên, Thành phố Hải Phòng", "2022-01-17"},
	{"040201003512", "Hoàng Minh Tuấn", "2001-05-09", Male, "Xã Nam Đàn, tỉnh Nghệ An", "Số 112 đường Quang Trung, phường Thành Vinh, tỉnh Nghệ An", "2021-06-22"},
	{"046185006650", "Võ Thị Thu Hà", "1985-09-17", Female, "Phường Hương Trà, Thành phố Huế", "Số 3 đường Lê Lợi, phường Thuận Hóa, Thành phố Huế", "2021-05-11"},
	{"048075000925", "Đặng Quốc Khánh", "1975-09-02", Male, "Phường Điện Bàn, Thành phố Đà Nẵng", "Số 76 đường Bạch Đằng, phường Hải Châu, Thành phố Đà Nẵng", "2021-09-30"},
	{"049303004418", "Bùi Thị Ngọc Ánh", "2003-02-14", Female, "Xã Duy Xuyên, Thành phố Đà Nẵng", "Số 21 đường Phan Châu Trinh, phường Hội An, Thành phố Đà Nẵng", "2021-02-25"},
	{"056090007731", "Ngô Thanh Sơn", "1990-06-18", Male, "Phường Ninh Hòa, tỉnh Khánh Hòa", "Số 58 đường Trần Phú, phường Nha Trang, tỉnh Khánh Hòa", "2022-07-04"},
	{"079182010234", "Trương Thị Mỹ Dung", "1982-04-25", Female, "Xã Củ Chi, Thành phố Hồ Chí Minh", "Số 135 đường Nam Kỳ Khởi Nghĩa, phường Xuân Hòa, Thành phố Hồ Chí Minh", "2021-10-12"},
	{"079058012987", "Lý Văn Phát", "1958-01-30", Male, "Phường Chợ Lớn, Thành phố Hồ Chí Minh", "Số 42 đường Hải Thượng Lãn Ông, phường Chợ Lớn, Thành phố Hồ Chí Minh", "2021-04-02"},
	{"092197002214", "Huỳnh Thị Kim Ngân", "1997-08-08", Female, "Xã Phong Điền, Thành phố Cần Thơ", "Số 16 đường Hòa Bình, phường Ninh Kiều, Thành phố Cần Thơ", "2021-12-20"},
	{"089070005526", "Dương Văn Thành", "1970-03-03", Male, "Xã Chợ Mới, tỉnh An Giang", "Số 8 đường Tôn Đức Thắng, phường Long Xuyên, tỉnh An Giang", "2022-03-15"},
	{"022168003390", "Đinh Thị Thanh Tâm", "1968-11-19", Female, "Phường Đông Triều, tỉnh Quảng Ninh", "Số 27 phố Bến Đoan, phường Hồng Gai, tỉnh Quảng Ninh", "2021-07-27"},
	{"034205001456", "Vũ Đức Anh", "2005-10-10", Male, "Xã Vũ Thư, tỉnh Hưng Yên", "Số 11 phố Lý Bôn, phường Thái Bình, tỉnh Hưng Yên", "2024-08-05"},
	{"027194006603", "Nguyễn Thị Phương Thảo", "1994-01-05", Female, "Xã Tiên Du, tỉnh Bắc Ninh", "Số 5 đường Ngô Gia Tự, phường Kinh Bắc, tỉnh Bắc Ninh", "2021-11-03"},
	{"011087000872", "Lò Văn Sáng", "1987-04-12", Male, "Xã Mường Phăng, tỉnh Điện Biên", "Bản Him Lam, phường Điện Biên Phủ, tỉnh Điện Biên", "2022-05-18"},
	{"010199001734", "Thào Thị Mai", "1999-09-23", Female, "Xã Bắc Hà, tỉnh Lào Cai", "Bản Cát Cát, phường Sa Pa, tỉnh Lào Cai", "2021-06-09"},
	{"066193002087", "H'Linh Byă", "1993-03-08", Female, "Xã Cư M'gar, tỉnh Đắk Lắk", "Buôn Ako Dhông, phường Buôn Ma Thuột, tỉnh Đắk Lắk", "2021-08-26"},
	{"052062004561", "Phan Văn Lộc", "1962-12-12", Male, "Xã Tuy Phước, tỉnh Gia Lai", "Số 99 đường Nguyễn Huệ, phường Quy Nhơn, tỉnh Gia Lai", "2021-01-28"},
	{"096178000519", "Tạ Thị Bích Hạnh", "1978-06-06", Female, "Xã Năm Căn, tỉnh Cà Mau", "Số 14 đường Phan Ngọc Hiển, phường An Xuyên, tỉnh Cà Mau", "2022-02-14"},
	{"086089003318", "Châu Minh Trí", "1989-02-27", Male, "Xã Trà Ôn, tỉnh Vĩnh Long", "Số 7 đường 2 Tháng 9, phường Long Châu, tỉnh Vĩnh Long", "2021-09-14"},
	{"042155001102", "Hồ Thị Xuân", "1955-02-02", Female, "Xã Đức Thọ, tỉnh Hà Tĩnh", "Số 30 đường Phan Đình Phùng, phường Thành Sen, tỉnh Hà Tĩnh", "2021-05-26"},
	{"001202009853", "Mai Văn Quang", "2002-07-15", Male, "Xã Ứng Hòa, Thành phố Hà Nội", "Số 6 ngõ 32 phố Trần Quốc Hoàn, phường Cầu Giấy, Thành phố Hà Nội", "2021-03-19"},
	{"001083007724", "Nguyễn Hoàng Nam", "1983-10-28", Male, "Xã Thanh Oai, Thành phố Hà Nội", "Số 4 phố Hàng Bạc, phường Hoàn Kiếm, Thành phố Hà Nội", "2021-06-01"},
	{"037172002268", "Trần Thị Thu Thủy", "1972-05-19", Female, "Xã Gia Viễn, tỉnh Ninh Bình", "Số 19 đường Lê Hồng Phong, phường Hoa Lư, tỉnh Ninh Bình", "2022-04-07"},
	{"068096005019", "Lâm Quốc Việt", "1996-04-30", Male, "Xã Đức Trọng, tỉnh Lâm Đồng", "Số 12 đường Trần Hưng Đạo, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng", "2021-10-25"},
	{"079304011640", "Lương Thị Diễm", "2004-12-01", Female, "Phường Dĩ An, Thành phố Hồ Chí Minh", "Số 88 đường Võ Văn Ngân, phường Thủ Đức, Thành phố Hồ Chí Minh", "2023-01-09"},
	{"035049000458", "Đoàn Văn Tiến", "1949-08-19", Male, "Xã Kim Bảng, tỉnh Ninh Bình", "Số 2 đường Biên Hòa, phường Phủ Lý, tỉnh Ninh Bình", "2021-02-03"},
	{"026191003871", "Phùng Thị Ngọc Hân", "1991-07-07", Female, "Xã Tam Đảo, tỉnh Phú Thọ", "Số 23 đường Mê Linh, phường Vĩnh Phúc, tỉnh Phú Thọ", "2021-12-06"},
}
