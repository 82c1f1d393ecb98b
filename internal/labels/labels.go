// Package labels matches labels against the selectors of the Kubernetes API:
// label selectors (matchLabels, matchExpressions) and node selector terms.
package labels

import (
	"slices"
	"strconv"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// SelectorMatches reports whether labels satisfy every matchLabels pair and
// every matchExpressions requirement of s. A nil or empty selector matches
// everything; callers for which nil means "nothing" check that first.
func SelectorMatches(s *ordov1.LabelSelector, labels map[string]string) bool {
	for k, v := range s.GetMatchLabels() {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.GetMatchExpressions() {
		if !RequirementMatches(e.GetKey(), e.GetOperator(), e.GetValues(), labels) {
			return false
		}
	}
	return true
}

// TermMatches reports whether labels satisfy all expressions of a node
// selector term. A term without expressions matches no node, as in Kubernetes.
func TermMatches(t *ordov1.NodeSelectorTerm, labels map[string]string) bool {
	if len(t.GetMatchExpressions()) == 0 {
		return false
	}
	for _, e := range t.GetMatchExpressions() {
		if !RequirementMatches(e.GetKey(), e.GetOperator(), e.GetValues(), labels) {
			return false
		}
	}
	return true
}

// RequirementMatches evaluates one requirement: In, NotIn, Exists,
// DoesNotExist, and the node selector operators Gt and Lt (integer
// comparison). Unknown operators match nothing.
func RequirementMatches(key, op string, values []string, labels map[string]string) bool {
	v, has := labels[key]
	switch op {
	case "In":
		return has && slices.Contains(values, v)
	case "NotIn":
		return !has || !slices.Contains(values, v)
	case "Exists":
		return has
	case "DoesNotExist":
		return !has
	case "Gt", "Lt":
		if !has || len(values) != 1 {
			return false
		}
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if op == "Gt" {
			return a > b
		}
		return a < b
	}
	return false
}

// MapMatches reports whether labels carry every key=value of sel (a
// Service's selector, a list's label selector); an empty sel matches all.
func MapMatches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
