package cliflag

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestList(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var l List
	fs.Var(&l, "x", "repeatable")
	if err := fs.Parse([]string{"--x", "a", "-x=b", "--x", "a,c"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "a,c"}; !slices.Equal(l, want) {
		t.Fatalf("values: %q, want %q", l, want)
	}
	if got := l.String(); got != "a,b,a,c" {
		t.Fatalf("String: %q", got)
	}
	var empty List
	if got := empty.String(); got != "" {
		t.Fatalf("String of no values: %q", got)
	}
}
