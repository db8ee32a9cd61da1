package web

import (
	"mime"
	"net/http"
	"strconv"
)

// Attachment sends content as a download named name: its stored media
// type, never sniffed by the browser nor shown inline, and never cached
// beyond the private, current response (a file of a dossier or a
// document is personal or classified).
func Attachment(w http.ResponseWriter, name, mediaType string, content []byte) {
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	w.Write(content) //nolint:errcheck // the client went away
}
