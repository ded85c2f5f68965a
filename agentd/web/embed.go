// Package web holds the agent page: TypeScript + Preact sources built with Vite (see README.md
// here), and the build embedded in the binary.
//
// The embedded directory is static/. In a clean checkout it holds only placeholder.html, which
// says how to build the page, so a plain `go build` works without Node.js. build.sh (run by the
// Makefile before `go build`) builds the page into dist/ and copies it into static/, where
// static/.gitignore keeps it out of git.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:static
var files embed.FS

// FS returns the page's files: index.html and assets/ when built, else placeholder.html.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // static/ is always embedded
	}
	return sub
}

// Built reports whether the page was built into the binary (static/index.html exists).
func Built() bool { return IsBuilt(FS()) }

// IsBuilt reports whether fsys holds a built page.
func IsBuilt(fsys fs.FS) bool {
	_, err := fs.Stat(fsys, "index.html")
	return err == nil
}

// Placeholder is the page served when the UI was not built.
func Placeholder() []byte {
	b, err := fs.ReadFile(files, "static/placeholder.html")
	if err != nil {
		panic(err)
	}
	return b
}
