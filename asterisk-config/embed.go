// Package asteriskconfig holds the Asterisk configuration Kontakt runs with. The files are usable
// verbatim by an operator (Debian paths, loopback, default ports); Render writes them with a few
// keys replaced for a project-local runtime.
package asteriskconfig

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed *.conf
var files embed.FS

// Overrides replaces values: file name → section → key → value. A key that does not occur in
// its section is an error, so a rename in the files cannot silently disable an override.
type Overrides map[string]map[string]map[string]string

// Set records one override.
func (o Overrides) Set(file, section, key, value string) {
	if o[file] == nil {
		o[file] = map[string]map[string]string{}
	}
	if o[file][section] == nil {
		o[file][section] = map[string]string{}
	}
	o[file][section][key] = value
}

// Files lists the configuration files.
func Files() []string {
	ents, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// Render writes every file into dir with the overrides applied.
func Render(dir string, o Overrides) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for file := range o {
		if _, err := fs.Stat(files, file); err != nil {
			return fmt.Errorf("asterisk-config: override for unknown file %s", file)
		}
	}
	for _, name := range Files() {
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		out, err := apply(name, string(b), o[name])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(out), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func apply(name, text string, o map[string]map[string]string) (string, error) {
	used := map[string]bool{}
	var b strings.Builder
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "[") {
			if end := strings.Index(trim, "]"); end > 0 {
				section = trim[1:end]
			}
		} else if k, _, ok := cutKey(trim); ok {
			if v, ok := o[section][k]; ok {
				sep := " = "
				if strings.Contains(trim, "=>") {
					sep = " => "
				}
				line = k + sep + v
				used[section+"\x00"+k] = true
			}
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for sec, kv := range o {
		for k := range kv {
			if !used[sec+"\x00"+k] {
				return "", fmt.Errorf("asterisk-config: %s has no key %q in [%s] to override", name, k, sec)
			}
		}
	}
	return b.String(), nil
}

func cutKey(line string) (key, value string, ok bool) {
	if line == "" || strings.HasPrefix(line, ";") {
		return "", "", false
	}
	i := strings.IndexAny(line, "=")
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimSpace(line[:i])
	value = strings.TrimSpace(strings.TrimPrefix(line[i+1:], ">"))
	return key, value, true
}
