package ivr

import (
	_ "embed"
	"sync"
)

//go:embed menus/19115.json
var defaultMenuJSON []byte

// DefaultMenuJSON is the default 19115 menu document (menus/19115.json), as seeded.
func DefaultMenuJSON() []byte { return append([]byte(nil), defaultMenuJSON...) }

var defaultMenu = sync.OnceValue(func() *Menu {
	m, ps := Decode(defaultMenuJSON)
	if len(ps) > 0 {
		panic("ivr: the embedded 19115 menu does not decode: " + ps.Error())
	}
	return m
})

// DefaultMenu is the default 19115 menu, decoded once and shared: do not modify it.
func DefaultMenu() *Menu { return defaultMenu() }

// DefaultQueues are the queue ids the default menu routes to; the ACD must know them.
func DefaultQueues() []string { return DefaultMenu().Queues() }

// DefaultCatalog is the catalog the default menu validates against: its own queues and skills.
func DefaultCatalog() *Catalog {
	return &Catalog{Queues: DefaultMenu().Queues(), Skills: DefaultMenu().Skills()}
}
