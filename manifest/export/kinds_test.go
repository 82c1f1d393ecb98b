package export_test

import (
	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func kindsOf(o *ordov1.Object) (*kinds.Kind, proto.Message, bool) { return kinds.OfObject(o) }
