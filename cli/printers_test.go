package cli

import (
	"testing"

	"github.com/ordoproject/ordo/internal/kinds"
)

// Every kind has a printer whose rows have as many cells as its header.
func TestPrinterForEveryKind(t *testing.T) {
	for _, k := range kinds.All() {
		p, ok := printers[k.Name]
		if !ok || p.row == nil || len(p.header) == 0 {
			t.Errorf("%s: no printer", k.Name)
			continue
		}
		for _, wide := range []bool{false, true} {
			if h, r := header(k.Name, wide), p.row(k.New(), testNow, wide); len(r) != len(h) {
				t.Errorf("%s (wide %t): row %q for header %q", k.Name, wide, r, h)
			}
		}
	}
	if len(printers) != len(kinds.All()) {
		t.Errorf("%d printers for %d kinds", len(printers), len(kinds.All()))
	}
}
