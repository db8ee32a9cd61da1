package app

import (
	"context"
	"time"

	"chancery/internal/portal"
	"chancery/internal/web"
)

// portalRoutes adds the portal's public pages, console pages and API; its
// sitemap lists the procedures' public pages too.
func (a *App) portalRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := portal.NewHandler(shell, portal.HandlerOptions{Service: a.Portal, BaseURL: a.cfg.PublicURL, ServicePaths: a.servicePaths})
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// servicePaths are the public pages of the catalogue of procedures.
func (a *App) servicePaths() []string {
	var out []string
	for _, p := range a.Procedures.Catalogue().Procedures() {
		out = append(out, "/procedures/"+p.Code)
	}
	return out
}

// seedDemoPortal publishes the demo's news, advisories and missions'
// details on a demo headquarters' first start, as the press department's
// press officer and the spokesperson would.
func (a *App) seedDemoPortal(ctx context.Context) error {
	var press, spokes portal.DemoStaff
	for username, into := range map[string]*portal.DemoStaff{"press.officer": &press, "spokesperson": &spokes} {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return err
		}
		*into = portal.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	return portal.SeedDemo(ctx, a.Portal, press, spokes, time.Now())
}
