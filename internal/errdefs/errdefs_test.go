package errdefs

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToGRPCKeepsMessageAndKind(t *testing.T) {
	err := fmt.Errorf("apply web: %w", Invalid("spec.replicas", "must be >= 0"))
	st, _ := status.FromError(ToGRPC(err))
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("code = %v, want InvalidArgument", st.Code())
	}
	if st.Message() != "apply web: spec.replicas: must be >= 0" {
		t.Fatalf("message = %q", st.Message())
	}
	back := FromGRPC(ToGRPC(err))
	if !errors.Is(back, ErrInvalid) {
		t.Fatalf("FromGRPC lost the kind: %v", back)
	}
	if st, _ := status.FromError(ToGRPC(NotFound("statefulset", "web"))); st.Code() != codes.NotFound {
		t.Fatalf("not found mapped to %v", st.Code())
	}
}
