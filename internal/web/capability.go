package web

import (
	"fmt"
	"io/fs"
)

// Capability is the set-up a capability's console handler shares with
// every other: its service, the shell and its pages, parsed once at start
// from the package's templates/*.html, so that a broken template fails
// there and not on a reader's request. A handler embeds it:
//
//	type Handler struct{ web.Capability[Service] }
//
//	func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
//		h := &Handler{}
//		if err := h.Init("dlp", shell, svc, templateFS); err != nil {
//			return nil, err
//		}
//		return h, nil
//	}
type Capability[S any] struct {
	Svc   *S
	Shell *Shell
	Pages *Templates
}

// Init sets c up, or returns an error naming the package (name) and what
// is missing or broken: the service, or a template that does not parse.
func (c *Capability[S]) Init(name string, shell *Shell, svc *S, templates fs.FS) error {
	if svc == nil {
		return fmt.Errorf("%s: NewHandler needs the service", name)
	}
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return fmt.Errorf("%s: parse page templates: %w", name, err)
	}
	c.Svc, c.Shell, c.Pages = svc, shell, pages
	return nil
}
