package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kontakt/internal/crm"
)

// Every API route registered anywhere in Kontakt is in the OpenAPI document the binary serves,
// so the document cannot drift from the code.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := string(crm.OpenAPI())
	route := regexp.MustCompile(`"(GET|POST|PUT|PATCH|DELETE) (/(?:api|public|open311)/[^"]*)"`)
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == ".runtime") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range route.FindAllStringSubmatch(string(b), -1) {
			found++
			path := strings.TrimSuffix(m[2], "{$}")
			if strings.HasPrefix(path, "/open311/v2/") && strings.HasSuffix(path, "{file}") {
				// Open311 routes one pattern per resource and dispatches on NAME.json / NAME.xml;
				// the document lists those as /open311/v2/NAME.{format}.
				continue
			}
			if !strings.Contains(doc, "\n  "+path+":") {
				t.Errorf("%s registers %s %s, which the OpenAPI document (internal/crm/openapi.yaml) does not describe", p, m[1], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Fatalf("found only %d routes: the scan is broken", found)
	}
}
