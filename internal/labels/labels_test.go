package labels

import (
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestRequirementMatches(t *testing.T) {
	l := map[string]string{"app": "web", "gen": "3"}
	for _, c := range []struct {
		key, op string
		values  []string
		want    bool
	}{
		{"app", "In", []string{"web", "db"}, true},
		{"app", "In", []string{"db"}, false},
		{"zone", "In", []string{"a"}, false},
		{"app", "NotIn", []string{"db"}, true},
		{"zone", "NotIn", []string{"a"}, true},
		{"app", "NotIn", []string{"web"}, false},
		{"app", "Exists", nil, true},
		{"zone", "Exists", nil, false},
		{"zone", "DoesNotExist", nil, true},
		{"gen", "Gt", []string{"2"}, true},
		{"gen", "Lt", []string{"2"}, false},
		{"app", "Gt", []string{"2"}, false},
		{"app", "Matches", []string{"web"}, false},
	} {
		if got := RequirementMatches(c.key, c.op, c.values, l); got != c.want {
			t.Errorf("%s %s %v = %v, want %v", c.key, c.op, c.values, got, c.want)
		}
	}
}

func TestSelectorAndTerm(t *testing.T) {
	l := map[string]string{"app": "web", "tier": "front"}
	if !SelectorMatches(nil, l) || !SelectorMatches(&ordov1.LabelSelector{}, l) {
		t.Error("an empty selector matches everything")
	}
	sel := &ordov1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []*ordov1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"back"}}}}
	if SelectorMatches(sel, l) {
		t.Error("matchExpressions ignored")
	}
	if TermMatches(&ordov1.NodeSelectorTerm{}, l) {
		t.Error("an empty node selector term matches no node")
	}
	term := &ordov1.NodeSelectorTerm{MatchExpressions: []*ordov1.NodeSelectorRequirement{{Key: "app", Operator: "In", Values: []string{"web"}}}}
	if !TermMatches(term, l) {
		t.Error("term should match")
	}
}
