// Package demo seeds a realistic ministry for `chancery serve --demo`: the
// Ministry of Foreign Affairs with its departments, missions abroad on
// every inhabited continent and the outside agencies it exchanges data
// with, a few dozen staff across roles and clearances, and citizens of
// the public site. It is demonstration data only; production databases are
// bootstrapped with the root unit and one administrator.
package demo

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
)

// DemoCredentials is what seeding needs from internal/auth.
type DemoCredentials interface {
	// HashPassword hashes the shared demo password once; hashing it for
	// each of the fifty accounts would cost seconds at the first start.
	HashPassword(ctx context.Context, password string) (string, error)
	// SetPasswordHash sets the principal's password from that hash.
	SetPasswordHash(ctx context.Context, kind authz.PrincipalKind, id int64, hash string, mustChange bool) error
	// ProvisionTOTP gives the principal an enabled TOTP second factor and
	// returns its base32 secret: demo accounts are fully enrolled, their
	// secrets handed over in the start-up banner.
	ProvisionTOTP(ctx context.Context, kind authz.PrincipalKind, id int64) (secret string, err error)
}

// Account is a seeded account as the operator needs to see it to sign in.
type Account struct {
	Username   string // staff username, or a citizen's e-mail address
	Name       string
	Roles      string // comma-separated role names; empty for citizens
	Clearance  string // level name; empty for citizens
	TOTPSecret string // base32; empty when no second factor was enrolled
}

// Accounts lists the seeded accounts.
type Accounts struct {
	Staff    []Account
	Citizens []Account
}

// actor names the seeding in the units' history, and as a system actor
// in the audit ledger.
const actor = "demo"

// RootCode is the electronic agency code of the Ministry of Foreign
// Affairs, the root of the seeded tree.
const RootCode = "000.00.00.G12"

// unit is a seeded unit; key names it for the staff table and parent
// names its parent's key (empty: the root).
type unit struct {
	key, code, nameVI, nameEN string
	kind                      identity.UnitKind
	country, zone             string
}

// units are the ministry's units. Codes follow the NNN.NN.NN.XNN format
// of electronic agency codes; apart from the ministry's own they are
// illustrative.
var units = []unit{
	{"office", "000.00.01.G12", "Văn phòng Bộ", "Office of the Ministry", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"personnel", "000.00.02.G12", "Vụ Tổ chức Cán bộ", "Personnel Department", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"consular", "000.00.03.G12", "Cục Lãnh sự", "Consular Department", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"cipher", "000.00.04.G12", "Cục Cơ yếu - Công nghệ thông tin", "Cipher-Information Technology Department", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"press", "000.00.05.G12", "Vụ Thông tin Báo chí", "Department of Press and Information", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"protocol", "000.00.06.G12", "Cục Lễ tân Nhà nước", "State Protocol Department", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"law", "000.00.07.G12", "Vụ Luật pháp và Điều ước quốc tế", "Department of International Law and Treaties", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"inspectorate", "000.00.08.G12", "Thanh tra Bộ", "Inspectorate of the Ministry", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"overseas", "000.00.09.G12", "Ủy ban Nhà nước về người Việt Nam ở nước ngoài", "State Committee for Overseas Vietnamese Affairs", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"external", "000.00.10.G12", "Cục Ngoại vụ", "Department of External Affairs", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
	{"academy", "000.00.11.G12", "Học viện Ngoại giao", "Diplomatic Academy of Vietnam", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},

	{"washington", "000.01.01.G12", "Đại sứ quán Việt Nam tại Hoa Kỳ", "Embassy of Viet Nam in the United States (Washington, D.C.)", identity.KindEmbassy, "US", "America/New_York"},
	{"paris", "000.01.02.G12", "Đại sứ quán Việt Nam tại Pháp", "Embassy of Viet Nam in France (Paris)", identity.KindEmbassy, "FR", "Europe/Paris"},
	{"tokyo", "000.01.03.G12", "Đại sứ quán Việt Nam tại Nhật Bản", "Embassy of Viet Nam in Japan (Tokyo)", identity.KindEmbassy, "JP", "Asia/Tokyo"},
	{"canberra", "000.01.04.G12", "Đại sứ quán Việt Nam tại Australia", "Embassy of Viet Nam in Australia (Canberra)", identity.KindEmbassy, "AU", "Australia/Sydney"},
	{"pretoria", "000.01.05.G12", "Đại sứ quán Việt Nam tại Nam Phi", "Embassy of Viet Nam in South Africa (Pretoria)", identity.KindEmbassy, "ZA", "Africa/Johannesburg"},
	{"brasilia", "000.01.06.G12", "Đại sứ quán Việt Nam tại Brazil", "Embassy of Viet Nam in Brazil (Brasília)", identity.KindEmbassy, "BR", "America/Sao_Paulo"},
	{"moscow", "000.01.07.G12", "Đại sứ quán Việt Nam tại Liên bang Nga", "Embassy of Viet Nam in the Russian Federation (Moscow)", identity.KindEmbassy, "RU", "Europe/Moscow"},
	{"beijing", "000.01.08.G12", "Đại sứ quán Việt Nam tại Trung Quốc", "Embassy of Viet Nam in China (Beijing)", identity.KindEmbassy, "CN", "Asia/Shanghai"},
	{"cairo", "000.01.09.G12", "Đại sứ quán Việt Nam tại Ai Cập", "Embassy of Viet Nam in Egypt (Cairo)", identity.KindEmbassy, "EG", "Africa/Cairo"},
	{"sanfrancisco", "000.02.01.G12", "Tổng Lãnh sự quán Việt Nam tại San Francisco", "Consulate General of Viet Nam in San Francisco", identity.KindConsulateGeneral, "US", "America/Los_Angeles"},
	{"osaka", "000.02.02.G12", "Tổng Lãnh sự quán Việt Nam tại Osaka", "Consulate General of Viet Nam in Osaka", identity.KindConsulateGeneral, "JP", "Asia/Tokyo"},
	{"un", "000.03.01.G12", "Phái đoàn thường trực Việt Nam tại Liên hợp quốc", "Permanent Mission of Viet Nam to the United Nations (New York)", identity.KindPermanentMission, "US", "America/New_York"},
	{"geneva", "000.03.02.G12", "Phái đoàn thường trực Việt Nam tại Geneva", "Permanent Mission of Viet Nam to the United Nations Office at Geneva", identity.KindPermanentMission, "CH", "Europe/Zurich"},

	{"vpcp", "000.00.00.G22", "Văn phòng Chính phủ (Cổng Dịch vụ công quốc gia)", "Office of the Government (National Public Service Portal)", identity.KindAgency, "VN", "Asia/Ho_Chi_Minh"},
	{"mps", "000.00.00.G02", "Bộ Công an (Cơ sở dữ liệu quốc gia về dân cư)", "Ministry of Public Security (National Population Database)", identity.KindAgency, "VN", "Asia/Ho_Chi_Minh"},
	{"bcy", "000.00.00.G29", "Ban Cơ yếu Chính phủ", "Government Cipher Committee", identity.KindAgency, "VN", "Asia/Ho_Chi_Minh"},
}

// staff is a seeded staff member: username, full name, unit key, roles,
// clearance.
type staff struct {
	username, name, unit string
	roles                []authz.Role
	clearance            authz.Level
}

var (
	clerk    = []authz.Role{authz.Clerk}
	officer  = []authz.Role{authz.Officer}
	approver = []authz.Role{authz.Approver}
)

// people are the ministry's staff: Vietnamese names in the usual order
// (family, middle, given).
var people = []staff{
	{"admin", "Nguyễn Văn Quản", "office", []authz.Role{authz.Administrator}, authz.Unclassified},
	{"auditor", "Trần Thị Thanh Hà", "inspectorate", []authz.Role{authz.Auditor}, authz.Unclassified},
	{"archivist", "Lê Minh Thư", "office", []authz.Role{authz.Archivist}, authz.Secret},
	{"security.officer", "Phạm Quốc Bảo", "cipher", []authz.Role{authz.SecurityOfficer}, authz.TopSecret},
	{"cipher.officer", "Hoàng Đức Minh", "cipher", officer, authz.TopSecret},
	{"cipher.admin", "Vũ Thị Ngọc Anh", "cipher", []authz.Role{authz.Administrator, authz.Officer}, authz.Secret},
	{"consular.clerk", "Đặng Thị Hồng Nhung", "consular", clerk, authz.Unclassified},
	{"consular.officer", "Bùi Văn Hùng", "consular", officer, authz.Confidential},
	{"consular.approver", "Đỗ Thị Mai Lan", "consular", approver, authz.Confidential},
	{"consular.clerk2", "Ngô Văn Tâm", "consular", clerk, authz.Unclassified},
	{"consular.officer2", "Dương Thị Thu Trang", "consular", officer, authz.Unclassified},
	{"office.clerk", "Lý Thị Hương", "office", clerk, authz.Confidential},
	// The records offices' clerks for classified documents (văn thư mật),
	// and the Cipher-IT Department's clerk and director, who register,
	// issue and approve the records demo's classified documents.
	{"office.secretclerk", "Cao Thị Thanh Xuân", "office", clerk, authz.Secret},
	{"consular.secretclerk", "La Văn Bình", "consular", clerk, authz.Confidential},
	{"cipher.clerk", "Ninh Thị Kim Dung", "cipher", clerk, authz.TopSecret},
	{"cipher.approver", "Tống Văn Thịnh", "cipher", approver, authz.TopSecret},
	// The Cipher-IT Department's architect keeps the architecture
	// repository (internal/architecture).
	{"architect", "Kiều Văn Kiến", "cipher", []authz.Role{authz.Architect}, authz.Unclassified},
	{"office.approver", "Trịnh Văn Long", "office", approver, authz.Secret},
	{"personnel.officer", "Mai Thị Kim Oanh", "personnel", officer, authz.Confidential},
	{"personnel.approver", "Hồ Sĩ Dũng", "personnel", approver, authz.Secret},
	// The press department: its press officer drafts the portal's news,
	// which the ministry's spokesperson approves (internal/portal).
	{"press.officer", "Phan Thị Thanh Thủy", "press", []authz.Role{authz.PressOfficer, authz.Officer}, authz.Unclassified},
	{"spokesperson", "Lê Thị Thu Hằng", "press", []authz.Role{authz.Spokesperson, authz.Approver}, authz.Confidential},
	{"protocol.officer", "Nguyễn Minh Khôi", "protocol", officer, authz.Confidential},
	{"law.officer", "Trần Quang Vinh", "law", officer, authz.Secret},
	{"law.approver", "Võ Thị Bích Ngọc", "law", approver, authz.Secret},
	{"inspector", "Đinh Công Thành", "inspectorate", []authz.Role{authz.Auditor, authz.Officer}, authz.Confidential},
	{"overseas.officer", "Lương Thị Phương", "overseas", officer, authz.Unclassified},
	{"external.officer", "Tạ Văn Phúc", "external", officer, authz.Unclassified},
	{"academy.officer", "Châu Thị Diệu Linh", "academy", officer, authz.Unclassified},
	{"washington.ambassador", "Nguyễn Quốc Dũng", "washington", []authz.Role{authz.Approver, authz.Officer}, authz.Secret},
	{"washington.officer", "Phạm Thị Thanh Bình", "washington", officer, authz.Confidential},
	{"washington.clerk", "Trần Văn Đức", "washington", clerk, authz.Unclassified},
	{"paris.clerk", "Lê Thị Ánh Tuyết", "paris", clerk, authz.Unclassified},
	{"paris.officer", "Nguyễn Thành Trung", "paris", officer, authz.Confidential},
	{"paris.approver", "Đào Thị Hải Yến", "paris", approver, authz.Secret},
	{"tokyo.clerk", "Hoàng Thị Lệ Thu", "tokyo", clerk, authz.Unclassified},
	{"tokyo.officer", "Vũ Hồng Sơn", "tokyo", officer, authz.Confidential},
	{"canberra.officer", "Phùng Văn Khánh", "canberra", []authz.Role{authz.Officer, authz.Clerk}, authz.Unclassified},
	{"pretoria.officer", "Kiều Thị Minh Châu", "pretoria", []authz.Role{authz.Officer, authz.Clerk}, authz.Unclassified},
	{"brasilia.officer", "Lâm Văn Hải", "brasilia", []authz.Role{authz.Officer, authz.Clerk}, authz.Unclassified},
	{"moscow.officer", "Đoàn Thị Ngân", "moscow", officer, authz.Confidential},
	{"moscow.clerk", "Tôn Thất Hiếu", "moscow", clerk, authz.Unclassified},
	{"beijing.officer", "Quách Thị Hạnh", "beijing", officer, authz.Confidential},
	{"cairo.officer", "Huỳnh Văn Tài", "cairo", []authz.Role{authz.Officer, authz.Clerk}, authz.Unclassified},
	{"sanfrancisco.clerk", "Nguyễn Thị Bảo Trâm", "sanfrancisco", clerk, authz.Unclassified},
	{"sanfrancisco.officer", "Trương Văn Lộc", "sanfrancisco", officer, authz.Unclassified},
	{"osaka.clerk", "Lê Văn Thắng", "osaka", clerk, authz.Unclassified},
	{"un.officer", "Phạm Hải Anh", "un", officer, authz.Confidential},
	{"un.ambassador", "Đặng Hoàng Giang", "un", []authz.Role{authz.Approver, authz.Officer}, authz.Secret},
	{"geneva.officer", "Mai Phương Thúy", "geneva", officer, authz.Confidential},
	// The ministry's leadership (a deputy minister): assigns leadership
	// tasks and reads every unit's tasks and reports (internal/insight).
	{"leader", "Trịnh Quang Vinh", "office", []authz.Role{authz.Leader}, authz.Confidential},
	{"vpcp.liaison", "Nguyễn Thị Thu Hà", "vpcp", officer, authz.Unclassified},
	{"population.liaison", "Trần Đình Trọng", "mps", officer, authz.Unclassified},
	{"bcy.liaison", "Phạm Văn Cường", "bcy", officer, authz.Confidential},
}

// citizen is a seeded account on the public site, with the identity number, date of
// birth and sex the population simulator (internal/govsim) holds for
// them, which SeedDossiers verifies on the account.
type citizen struct{ email, name, phone, idNumber, dob, sex string }

var citizens = []citizen{
	{"citizen@example.com", "Nguyễn Thị Lan", "+84 912 345 678", "001188004215", "1988-03-14", "female"},
	{"tran.van.minh@example.com", "Trần Văn Minh", "+33 6 12 34 56 78", "036079001187", "1979-11-02", "male"},
}

// Banner lists the accounts as the operator needs them to sign in, with
// the password they share.
func (acc Accounts) Banner(password string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Demo accounts — every password is %q. Staff with a clearance, administrators, security officers and auditors sign in with a TOTP code from the secret shown.\n", password)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tROLES\tCLEARANCE\tTOTP SECRET")
	for _, s := range acc.Staff {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Username, s.Name, s.Roles, s.Clearance, s.TOTPSecret)
	}
	tw.Flush()
	for _, c := range acc.Citizens {
		fmt.Fprintf(&b, "Citizen (public site): %s (%s)\n", c.Username, c.Name)
	}
	return b.String()
}

// Seed creates the demo ministry in dir: units, staff and citizens, each
// with password (to be kept, not changed at first sign-in), and an
// enabled TOTP second factor for every staff member who must use one,
// whose secret is returned. It refuses with errs.ErrConflict a directory that already has
// its root unit; the caller seeds only a new database. The audit ledger
// records every account and unit as created by the system actor "demo".
func Seed(ctx context.Context, dir *identity.Service, creds DemoCredentials, password string) (Accounts, error) {
	ctx = audit.WithOrigin(ctx, audit.Origin{Actor: audit.System(actor)})
	roots, _, err := dir.ListUnits(ctx, identity.UnitFilter{Kind: identity.KindMinistry, Limit: 1})
	if err != nil {
		return Accounts{}, fmt.Errorf("demo: %w", err)
	}
	if len(roots) > 0 {
		return Accounts{}, fmt.Errorf("demo: %w: the directory already has its root unit %s; demo data goes only into a new database", errs.ErrConflict, roots[0].Code)
	}
	root, err := dir.CreateUnit(ctx, actor, identity.NewUnit{Code: RootCode, NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		return Accounts{}, fmt.Errorf("demo: %w", err)
	}
	hash, err := creds.HashPassword(ctx, password)
	if err != nil {
		return Accounts{}, fmt.Errorf("demo: %w", err)
	}
	ids := map[string]int64{}
	for _, u := range units {
		created, err := dir.CreateUnit(ctx, actor, identity.NewUnit{Code: u.code, NameVI: u.nameVI, NameEN: u.nameEN,
			Kind: u.kind, ParentID: root.ID, Country: u.country, TimeZone: u.zone})
		if err != nil {
			return Accounts{}, fmt.Errorf("demo: unit %s: %w", u.key, err)
		}
		ids[u.key] = created.ID
	}
	var out Accounts
	for _, p := range people {
		// The demo's setup gives its clearances directly, through the
		// seeding path; a user's grant takes two people.
		m, err := dir.SeedStaff(ctx, actor, identity.NewStaff{Username: p.username, FullName: p.name,
			Email: p.username + "@mofa.gov.vn", UnitID: ids[p.unit], Roles: authz.RolesOf(p.roles...), Clearance: p.clearance})
		if err != nil {
			return Accounts{}, fmt.Errorf("demo: staff member %s: %w", p.username, err)
		}
		a := Account{Username: m.Username, Name: m.FullName, Roles: m.Roles.String(), Clearance: m.Clearance.String()}
		if err := creds.SetPasswordHash(ctx, authz.Staff, m.ID, hash, false); err != nil {
			return Accounts{}, fmt.Errorf("demo: password of %s: %w", m.Username, err)
		}
		// Cleared staff and administrators, security officers and
		// auditors must use a second factor (authz says who).
		if m.Subject().NeedsSecondFactor() {
			if a.TOTPSecret, err = creds.ProvisionTOTP(ctx, authz.Staff, m.ID); err != nil {
				return Accounts{}, fmt.Errorf("demo: second factor of %s: %w", m.Username, err)
			}
		}
		out.Staff = append(out.Staff, a)
	}
	if err := proposeGrant(ctx, dir); err != nil {
		return Accounts{}, fmt.Errorf("demo: %w", err)
	}
	for _, c := range citizens {
		created, err := dir.CreateCitizen(ctx, identity.NewCitizen{Email: c.email, FullName: c.name, Phone: c.phone})
		if err != nil {
			return Accounts{}, fmt.Errorf("demo: citizen %s: %w", c.email, err)
		}
		if err := creds.SetPasswordHash(ctx, authz.Citizen, created.ID, hash, false); err != nil {
			return Accounts{}, fmt.Errorf("demo: password of %s: %w", c.email, err)
		}
		out.Citizens = append(out.Citizens, Account{Username: created.Email, Name: created.FullName})
	}
	return out, nil
}

// proposeGrant leaves one grant waiting for a security officer, so the
// proposals page has something to decide: the administrator, signed in,
// proposes clearing consular.officer2 for confidential work.
func proposeGrant(ctx context.Context, dir *identity.Service) error {
	admin, err := dir.StaffByUsername(ctx, "admin")
	if err != nil {
		return fmt.Errorf("the administrator: %w", err)
	}
	m, err := dir.StaffByUsername(ctx, "consular.officer2")
	if err != nil {
		return fmt.Errorf("the officer to clear: %w", err)
	}
	asAdmin := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(admin.ID, admin.Username), UnitID: admin.UnitID})
	level := authz.Confidential
	if _, _, err := dir.ChangeStaff(asAdmin, admin.Username, m.ID, identity.StaffPatch{Clearance: &level, Version: m.Version}); err != nil {
		return fmt.Errorf("propose a clearance for %s: %w", m.Username, err)
	}
	return nil
}
