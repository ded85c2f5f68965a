package agentd

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"kontakt/agentd/web"
)

// UI serves the agent page (mount it at /agent/ with the prefix stripped, as Handler does):
// the built files, index.html for any path that is not a file (the page routes itself), and the
// placeholder that says how to build the page when the binary was built without it.
func (s *Server) UI() http.Handler { return s.ui }

func newUIHandler(fsys fs.FS) http.Handler {
	if fsys == nil {
		fsys = web.FS()
	}
	if !web.IsBuilt(fsys) {
		page := web.Placeholder()
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(page)
		})
	}
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p == "" || p == "." {
			p = "index.html"
		}
		if st, err := fs.Stat(fsys, p); err != nil || st.IsDir() {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
			w.Header().Set("Cache-Control", "no-cache")
		} else if strings.HasPrefix(p, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
