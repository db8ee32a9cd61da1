package registry

import (
	"context"
	"errors"
	"fmt"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
)

// The demo exchange's members, by the agency codes of the demo directory
// (internal/demo).
const (
	demoMinistry   = "000.00.00.G12" // Ministry of Foreign Affairs: headquarters' systems
	demoConsular   = "000.00.03.G12" // its Consular Department
	demoPopulation = "000.00.00.G02" // Ministry of Public Security: National Population Database
	demoPortal     = "000.00.00.G22" // Office of the Government: National Public Service Portal
)

// DemoBackends are the systems behind the demo's REST services.
type DemoBackends struct {
	// PopulationURL is the base URL of the National Population Database
	// simulator, the backend of citizen-lookup/v1.
	PopulationURL string
	// PopulationOpenAPI is that simulator's OpenAPI 3 document
	// (govsim.PopulationOpenAPI).
	PopulationOpenAPI []byte
}

// demoSubsystem is a subsystem of the demo; member "" stands for every
// mission.
type demoSubsystem struct {
	member, code, title string
	clearance           authz.Level
}

var demoSubsystems = []demoSubsystem{
	{demoMinistry, "procedures", "Hệ thống thông tin giải quyết thủ tục hành chính", authz.Confidential},
	{demoMinistry, "records", "Hệ thống quản lý văn bản và điều hành", authz.Secret},
	{demoConsular, "consular", "Hệ thống quản lý công tác lãnh sự (Cục Lãnh sự)", authz.Confidential},
	{demoPopulation, "population", "Cơ sở dữ liệu quốc gia về dân cư (mô phỏng)", authz.Unclassified},
	{demoPortal, "portal", "Cổng Dịch vụ công quốc gia (mô phỏng)", authz.Unclassified},
	{"", "consular", "Hệ thống lãnh sự của cơ quan đại diện", authz.Confidential},
}

// demoServices returns the demo's services.
func (r *Registry) demoServices(b DemoBackends) []NewService {
	id := func(member, subsystem, service string) exchange.ServiceID {
		return exchange.ServiceID{ClientID: exchange.ClientID{Instance: r.opts.Instance, Class: exchange.ClassGOV, Member: member, Subsystem: subsystem},
			Service: service, Version: "v1"}
	}
	return []NewService{
		{ID: id(demoPopulation, "population", "citizen-lookup"), Kind: exchange.KindREST,
			Title:       "Tra cứu thông tin công dân theo số định danh cá nhân",
			Description: "Trả về họ tên, ngày sinh, giới tính và nơi thường trú của công dân theo số định danh cá nhân 12 chữ số, để xác minh hồ sơ mà không yêu cầu công dân nộp bản sao giấy tờ.",
			Backend:     b.PopulationURL, OpenAPI: string(b.PopulationOpenAPI), MaxLevel: authz.Unclassified},
		{ID: id(demoPortal, "portal", "dossier-status"), Kind: exchange.KindAsync,
			Title:       "Cập nhật trạng thái hồ sơ lên Cổng Dịch vụ công quốc gia",
			Description: "Thông điệp JSON gửi mỗi khi hồ sơ thủ tục hành chính đổi trạng thái (dossier_code, procedure_code, status 1–10, status_name, channel, paid, paid_online, updated_at, agency_code), để công dân theo dõi trên Cổng Dịch vụ công quốc gia.",
			MaxLevel:    authz.Unclassified},
		{ID: id(demoConsular, "consular", "consular-report"), Kind: exchange.KindAsync,
			Title:       "Báo cáo công tác lãnh sự định kỳ",
			Description: "Cơ quan đại diện gửi báo cáo định kỳ về thị thực, hộ chiếu, hộ tịch và quốc tịch về Cục Lãnh sự.",
			MaxLevel:    authz.Confidential},
		{ID: id(demoConsular, "consular", "citizen-protection"), Kind: exchange.KindAsync,
			Title:       "Thông báo vụ việc bảo hộ công dân",
			Description: "Cơ quan đại diện thông báo ngay về Cục Lãnh sự các vụ việc bảo hộ công dân Việt Nam ở nước ngoài (bị bắt giữ, tai nạn, thiên tai).",
			MaxLevel:    authz.Confidential},
	}
}

// demoRight is a right of the demo; client member "" stands for every
// mission.
type demoRight struct {
	service                       int // index in demoServices
	clientMember, clientSubsystem string
}

var demoRights = []demoRight{
	{0, demoMinistry, "procedures"}, // procedures look citizens up
	{1, demoMinistry, "procedures"}, // and report dossier statuses to the national portal
	{2, "", "consular"},             // every mission reports to the Consular Department
	{3, "", "consular"},
	{0, "", "consular"}, // and verify citizens' identity for passports and civil status
	{1, "", "consular"}, // and report their dossiers' statuses to the national portal
}

// SeedDemo registers the demo exchange, recorded as usual: subsystems of
// headquarters' systems, a consular subsystem at every mission, the
// National Population Database with its REST service citizen-lookup/v1,
// the National Public Service Portal with its asynchronous service
// dossier-status/v1, the Consular Department's asynchronous services for
// missions, and the rights between them (missions' consular systems may
// also look citizens up, to verify identity for passports and civil
// status). It adds only what is missing, in one change
// that publishes one configuration; run again, it changes nothing. The
// directory must hold the demo's units and headquarters' node must be
// registered (EnsureHQNode).
func (r *Registry) SeedDemo(ctx context.Context, b DemoBackends) error {
	services := r.demoServices(b)
	err := r.write(ctx, func(c *change) error {
		var missions []string
		for _, u := range c.units {
			if u.Kind.Mission() && u.Status == identity.UnitActive {
				missions = append(missions, u.Code)
			}
		}
		each := func(member string) []string {
			if member == "" {
				return missions
			}
			return []string{member}
		}
		added := 0
		for _, d := range demoSubsystems {
			for _, m := range each(d.member) {
				in := NewSubsystem{Member: m, Code: d.code, Title: d.title, Clearance: d.clearance}
				ok, err := missing(subsystemByID(c.ctx, c.tx, c.instance, exchange.ClientID{Instance: c.instance, Class: exchange.ClassGOV, Member: m, Subsystem: d.code}))
				if err == nil && ok {
					_, err = createSubsystem(c, in)
					added++
				}
				if err != nil {
					return fmt.Errorf("subsystem %s/%s: %w", m, d.code, err)
				}
			}
		}
		for _, in := range services {
			ok, err := missing(serviceByID(c.ctx, c.tx, c.instance, in.ID))
			if err == nil && ok {
				_, err = createService(c, in)
				added++
			}
			if err != nil {
				return fmt.Errorf("service %s: %w", in.ID, err)
			}
		}
		for _, d := range demoRights {
			for _, m := range each(d.clientMember) {
				service := services[d.service].ID
				client := exchange.ClientID{Instance: c.instance, Class: exchange.ClassGOV, Member: m, Subsystem: d.clientSubsystem}
				inForce, err := rightInForce(c.ctx, c.tx, service, client)
				if err == nil && !inForce {
					_, err = grant(c, service, client)
					added++
				}
				if err != nil {
					return fmt.Errorf("right of %s on %s: %w", client, service, err)
				}
			}
		}
		docs, err := seedDemoDocuments(c, missions)
		if err != nil {
			return err
		}
		if added += docs; added == 0 {
			return errUnchanged
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed the demo exchange: %w", err)
	}
	return nil
}

// missing reports whether a lookup found nothing, passing on any other
// error.
func missing[T any](_ T, err error) (bool, error) {
	if errors.Is(err, errs.ErrNotFound) {
		return true, nil
	}
	return false, err
}
