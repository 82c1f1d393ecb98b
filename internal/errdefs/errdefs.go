// Package errdefs holds the few kinds of error ordo distinguishes. Code wraps
// them with %w and context; only the gRPC boundary converts them to status codes.
package errdefs

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
)

// Invalid returns an ErrInvalid naming the offending field:
// Invalid("spec.replicas", "must be >= 0") -> "spec.replicas: must be >= 0".
func Invalid(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

type fieldError struct{ field, msg string }

func (e *fieldError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return e.field + ": " + e.msg
}
func (e *fieldError) Unwrap() error { return ErrInvalid }

// NotFound returns an ErrNotFound for kind/name.
func NotFound(kind, name string) error {
	return fmt.Errorf("%s %q %w", kind, name, ErrNotFound)
}

// ToGRPC converts an error to a gRPC status error. Use it only at the gRPC boundary.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrConflict):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrUnavailable):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}

// FromGRPC maps a gRPC status error back to the sentinel kinds, keeping its message.
func FromGRPC(err error) error {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return err
	}
	var kind error
	switch st.Code() {
	case codes.InvalidArgument:
		kind = ErrInvalid
	case codes.NotFound:
		kind = ErrNotFound
	case codes.FailedPrecondition, codes.AlreadyExists:
		kind = ErrConflict
	case codes.Unavailable:
		kind = ErrUnavailable
	default:
		return err
	}
	return &wrapped{msg: st.Message(), kind: kind}
}

type wrapped struct {
	msg  string
	kind error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.kind }
