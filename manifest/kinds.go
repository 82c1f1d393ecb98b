package manifest

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// decoder reads documents of one kind: into its Kubernetes API type, then
// into the API message.
type decoder struct {
	target  func() any // a new Kubernetes object to decode the document into
	convert func(c *conv, target any) proto.Message
}

// decoders are the kinds a manifest may hold, by their internal/kinds
// names; each travels in the API as an Object.
var decoders = map[string]decoder{
	kinds.StatefulSet:           decoderOf((*conv).statefulSet),
	kinds.Service:               decoderOf((*conv).service),
	kinds.PersistentVolume:      decoderOf((*conv).persistentVolume),
	kinds.PersistentVolumeClaim: decoderOf((*conv).persistentVolumeClaim),
	kinds.StorageClass:          decoderOf((*conv).storageClass),
	kinds.ConfigMap:             decoderOf((*conv).configMap),
	kinds.Secret:                decoderOf((*conv).secret),
	kinds.PodDisruptionBudget:   decoderOf((*conv).podDisruptionBudget),
}

func decoderOf[In any, Out proto.Message](convert func(*conv, *In) Out) decoder {
	return decoder{
		target:  func() any { return new(In) },
		convert: func(c *conv, target any) proto.Message { return convert(c, target.(*In)) },
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
