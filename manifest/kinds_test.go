package manifest

import (
	"testing"

	"github.com/ordoproject/ordo/internal/kinds"
)

// A manifest holds exactly the kinds that travel in the API as Objects.
func TestDecodersCoverObjectKinds(t *testing.T) {
	for _, k := range kinds.All() {
		_, decodable := decoders[k.Name]
		if inObject := k.Object(k.New()) != nil; decodable != inObject {
			t.Errorf("%s: decodable %t, travels as an Object %t", k.Name, decodable, inObject)
		}
	}
	for name, d := range decoders {
		if _, ok := kinds.Lookup(name); !ok || d.target == nil || d.convert == nil {
			t.Errorf("decoder %q is no kind of internal/kinds", name)
		}
	}
}
