package manifest

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// decoder reads documents of one kind: into the Kubernetes-shaped struct
// that names the fields ordo accepts, then into the API message.
type decoder struct {
	target  func() any // a new struct to unmarshal the document into
	convert func(target any) (proto.Message, error)
}

// decoders are the kinds a manifest may hold, by their internal/kinds
// names; each travels in the API as an Object.
var decoders = map[string]decoder{
	kinds.StatefulSet:           decoderOf(convertStatefulSet),
	kinds.Service:               decoderOf(convertService),
	kinds.PersistentVolume:      decoderOf(convertPV),
	kinds.PersistentVolumeClaim: decoderOf(convertPVC),
	kinds.StorageClass: decoderOf(func(in *storageClass) (*ordov1.StorageClass, error) {
		return convertSC(in), nil
	}),
}

func decoderOf[In any, Out proto.Message](convert func(*In) (Out, error)) decoder {
	return decoder{
		target: func() any { return new(In) },
		convert: func(target any) (proto.Message, error) {
			out, err := convert(target.(*In))
			if err != nil {
				return nil, err
			}
			return out, nil
		},
	}
}

// supportedKinds names the kinds a manifest may hold, in the order of the
// kinds table: "StatefulSet, Service, ...".
func supportedKinds() string {
	var names []string
	for _, k := range kinds.All() {
		if _, ok := decoders[k.Name]; ok {
			names = append(names, k.Name)
		}
	}
	return strings.Join(names, ", ")
}

// Ref names an object: ("StatefulSet", "default", "web").
func Ref(obj *ordov1.Object) (kind, namespace, name string) {
	k, m, ok := kinds.OfObject(obj)
	if !ok {
		return "", "", ""
	}
	md := kinds.Meta(m)
	return k.Name, md.GetNamespace(), md.GetName()
}
