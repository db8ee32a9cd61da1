package detect

import (
	"fmt"
	"strings"
	"time"
)

// The alerts' words, in Vietnamese and English. They are data the alert
// carries (Text), so that the console, the mail and the CEF feed say the
// same thing; the numbers are the evidence's and the person's usual.

// span says a duration in words.
func span(d time.Duration) Text {
	switch {
	case d < time.Minute:
		return Text{VI: "chưa đến 1 phút", EN: "under a minute"}
	case d < 2*time.Hour:
		m := int(d.Round(time.Minute) / time.Minute)
		return Text{VI: fmt.Sprintf("%d phút", m), EN: plural(m, "minute")}
	case d < 48*time.Hour:
		h := int(d.Round(time.Hour) / time.Hour)
		return Text{VI: fmt.Sprintf("%d giờ", h), EN: plural(h, "hour")}
	}
	days := int(d.Round(24*time.Hour) / (24 * time.Hour))
	return Text{VI: fmt.Sprintf("%d ngày", days), EN: plural(days, "day")}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// usualText says a usual daily range, such as "0–2 a day".
func usualText(lo, hi int) Text {
	if lo == hi {
		return Text{VI: fmt.Sprintf("%d mỗi ngày", lo), EN: fmt.Sprintf("%d a day", lo)}
	}
	return Text{VI: fmt.Sprintf("%d–%d mỗi ngày", lo, hi), EN: fmt.Sprintf("%d–%d a day", lo, hi)}
}

func textBulk(items, reads, downloads, copies, classified int, d time.Duration, lo, hi int) (Text, Text) {
	s, u := span(d), usualText(lo, hi)
	return Text{VI: "Lấy tài liệu với khối lượng bất thường", EN: "Unusual volume of documents taken"},
		Text{
			VI: fmt.Sprintf("đã lấy %d tài liệu trong %s (đọc %d, tải xuống %d, sao chụp hoặc in %d; %d tài liệu mật); thường ngày: %s",
				items, s.VI, reads, downloads, copies, classified, u.VI),
			EN: fmt.Sprintf("took %d items in %s (%d read, %d downloaded, %d copied or printed; %d classified); usual: %s",
				items, s.EN, reads, downloads, copies, classified, u.EN),
		}
}

func textCuriosity(n int, d time.Duration, lo, hi int) (Text, Text) {
	s, u := span(d), usualText(lo, hi)
	return Text{VI: "Xem hồ sơ của đơn vị khác", EN: "Browsing other units' files"},
		Text{
			VI: fmt.Sprintf("đã đọc %d hồ sơ, tài liệu của đơn vị khác trong %s; thường ngày: %s", n, s.VI, u.VI),
			EN: fmt.Sprintf("read %d dossiers or documents of units other than their own in %s; usual: %s", n, s.EN, u.EN),
		}
}

func textProbes(n, concealed int, d time.Duration, lo, hi int) (Text, Text) {
	s, u := span(d), usualText(lo, hi)
	return Text{VI: "Dò tìm tài liệu không được phép", EN: "Probing for what they may not see"},
		Text{
			VI: fmt.Sprintf("bị từ chối %d lần trong %s, %d lần được trả lời như không tồn tại (404); thường ngày: %s", n, s.VI, concealed, u.VI),
			EN: fmt.Sprintf("was refused %d times in %s, %d of them answered as not found (404); usual: %s", n, s.EN, concealed, u.EN),
		}
}

func textExchange(sends, news, lo, hi int) (Text, Text) {
	u := usualText(lo, hi)
	return Text{VI: "Gửi ra ngoài bất thường", EN: "Unusual messages out"},
		Text{
			VI: fmt.Sprintf("đã gửi %d văn bản, thông điệp hôm nay, %d tới nơi nhận mà cả đơn vị chưa từng gửi; thường ngày: %s", sends, news, u.VI),
			EN: fmt.Sprintf("sent %d messages today, %d of them to recipients their unit never wrote to; usual: %s", sends, news, u.EN),
		}
}

func textOffHours(n, hour int, dayOff bool, d time.Duration, usualHours string) (Text, Text) {
	s := span(d)
	when := Text{VI: fmt.Sprintf("lúc %s:00 giờ địa phương", pad2(hour)), EN: fmt.Sprintf("at %s:00 local time", pad2(hour))}
	if dayOff {
		when.VI += ", ngày nghỉ"
		when.EN += ", on a day off"
	}
	return Text{VI: "Làm việc ngoài giờ thường lệ", EN: "Activity outside usual hours"},
		Text{
			VI: fmt.Sprintf("%d thao tác trong %s, %s; giờ làm thường lệ: %s ngày làm việc", n, s.VI, when.VI, usualHours),
			EN: fmt.Sprintf("%d actions in %s, %s; usual hours: %s on working days", n, s.EN, when.EN, usualHours),
		}
}

func textPrivilege(pr *privilege, d time.Duration) (Text, Text) {
	s := span(d)
	change := Text{VI: fmt.Sprintf("mức được tiếp cận nâng từ %s lên %s", pr.Old, pr.New), EN: fmt.Sprintf("clearance raised from %s to %s", pr.Old, pr.New)}
	if pr.New <= pr.Old {
		change = Text{VI: "vai trò đổi thành " + pr.Roles, EN: "roles changed to " + pr.Roles}
	}
	by := Text{VI: "bởi " + pr.By, EN: "by " + pr.By}
	if pr.By == "self" {
		by = Text{VI: "do chính người này", EN: "by the person themselves"}
	}
	return Text{VI: "Được nâng quyền rồi dùng ngay", EN: "Privilege change followed by use"},
		Text{
			VI: fmt.Sprintf("%s %s, rồi trong %s đã dùng %d lần cho tài liệu trên mức cũ hoặc của đơn vị khác", change.VI, by.VI, s.VI, pr.Uses),
			EN: fmt.Sprintf("%s %s, then within %s used it %d times on items above the old level or of other units", change.EN, by.EN, s.EN, pr.Uses),
		}
}

func textNewAddress(device bool, val string, unitNew, off bool, fails, known int) (Text, Text) {
	what := Text{VI: "địa chỉ mới " + val, EN: "new address " + val}
	title := Text{VI: "Đăng nhập từ địa chỉ mới", EN: "Sign-in from a new address"}
	if device {
		what = Text{VI: "thiết bị mới " + val, EN: "new device " + val}
		title = Text{VI: "Đăng nhập từ thiết bị mới", EN: "Sign-in from a new device"}
	}
	var vi, en []string
	if unitNew {
		vi, en = append(vi, "cả đơn vị chưa từng dùng"), append(en, "never used by anyone in the unit")
	}
	if off {
		vi, en = append(vi, "ngoài giờ thường lệ"), append(en, "outside usual hours")
	}
	if fails > 0 {
		vi, en = append(vi, fmt.Sprintf("sau %d lần đăng nhập sai trong 1 giờ", fails)), append(en, fmt.Sprintf("after %d failed sign-ins in the hour", fails))
	}
	return title, Text{
		VI: fmt.Sprintf("đăng nhập từ %s (%s); trước đây dùng %d địa chỉ, thiết bị", what.VI, strings.Join(vi, "; "), known),
		EN: fmt.Sprintf("signed in from a %s (%s); before: %d known addresses and devices", what.EN, strings.Join(en, "; "), known),
	}
}

func textFailures(n, addrs int, d time.Duration) (Text, Text) {
	s := span(d)
	return Text{VI: "Đăng nhập sai liên tiếp", EN: "Burst of failed sign-ins"},
		Text{
			VI: fmt.Sprintf("%d lần đăng nhập sai vào một tài khoản trong %s, từ %d địa chỉ", n, s.VI, addrs),
			EN: fmt.Sprintf("%d failed sign-ins to one account in %s, from %d addresses", n, s.EN, addrs),
		}
}

func textStuffing(addr string, accounts, n int, d time.Duration) (Text, Text) {
	s := span(d)
	return Text{VI: "Thử mật khẩu trên nhiều tài khoản", EN: "Credential stuffing across accounts"},
		Text{
			VI: fmt.Sprintf("địa chỉ %s đăng nhập sai %d lần vào %d tài khoản khác nhau trong %s", addr, n, accounts, s.VI),
			EN: fmt.Sprintf("address %s failed %d sign-ins to %d different accounts in %s", addr, n, accounts, s.EN),
		}
}

func textStorm(n, keys int, d time.Duration) (Text, Text) {
	s := span(d)
	return Text{VI: "Hàng loạt tài khoản, địa chỉ bị chặn", EN: "Storm of slowed and blocked sign-ins"},
		Text{
			VI: fmt.Sprintf("%d lần làm chậm, chặn đăng nhập trên %d tài khoản, địa chỉ trong %s", n, keys, s.VI),
			EN: fmt.Sprintf("%d sign-in slowdowns and blocks on %d accounts and addresses in %s", n, keys, s.EN),
		}
}

// featureNames name the model's features as counts of a day.
var featureNames = [nFeat]Text{
	fReads:      {VI: "lượt đọc", EN: "reads"},
	fDownloads:  {VI: "lượt tải xuống", EN: "downloads"},
	fCopies:     {VI: "bản sao, bản in", EN: "copies and prints"},
	fClassified: {VI: "tài liệu mật", EN: "classified items"},
	fForeign:    {VI: "hồ sơ của đơn vị khác", EN: "other units' files"},
	fOffHours:   {VI: "thao tác ngoài giờ", EN: "actions outside usual hours"},
	fSends:      {VI: "văn bản gửi đi", EN: "messages sent"},
	fNewRecips:  {VI: "nơi nhận mới", EN: "new recipients"},
	fDenied:     {VI: "lần bị từ chối", EN: "refusals"},
	fClassOut:   {VI: "tài liệu mật tải xuống, in", EN: "classified items downloaded or printed"},
	fTake:       {VI: "khối lượng", EN: "volume"},
}

func textAnomaly(parts []featurePart, day time.Time) (Text, Text) {
	var vi, en []string
	for _, p := range parts {
		u := usualText(p.Lo, p.Hi)
		vi = append(vi, fmt.Sprintf("%d %s (thường: %s)", p.N, featureNames[p.Feature].VI, u.VI))
		en = append(en, fmt.Sprintf("%d %s (usual: %s)", p.N, featureNames[p.Feature].EN, u.EN))
	}
	d := day.Format(time.DateOnly)
	return Text{VI: "Một ngày làm việc bất thường", EN: "An unusual day"},
		Text{
			VI: fmt.Sprintf("ngày %s khác hẳn thường lệ: %s", d, strings.Join(vi, ", ")),
			EN: fmt.Sprintf("the day %s was far from usual: %s", d, strings.Join(en, ", ")),
		}
}

func textSustained(n, days, lo, hi int) (Text, Text) {
	u := usualText(lo, hi)
	return Text{VI: "Lấy tài liệu nhỉnh hơn thường lệ nhiều ngày liền", EN: "Taking a little more than usual, day after day"},
		Text{
			VI: fmt.Sprintf("đã tải xuống, sao chụp hoặc đọc %d tài liệu mật trong %d ngày gần đây, mỗi ngày nhỉnh hơn thường lệ; thường ngày: %s", n, days, u.VI),
			EN: fmt.Sprintf("downloaded, copied or read %d classified items over the last %d days, each day a little above usual; usual: %s", n, days, u.EN),
		}
}
