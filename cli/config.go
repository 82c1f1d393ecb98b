package cli

import (
	"strconv"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Table rows of the configuration kinds (ConfigMap, Secret) and of
// PodDisruptionBudget, with kubectl's columns.

func configMapRow(o *ordov1.ConfigMap, now time.Time, _ bool) []string {
	n := len(o.GetData()) + len(o.GetBinaryData())
	return []string{o.GetMetadata().GetName(), strconv.Itoa(n), age(now, o.GetMetadata().GetCreationTime())}
}

func secretRow(o *ordov1.Secret, now time.Time, _ bool) []string {
	typ := o.GetType()
	if typ == "" {
		typ = "Opaque"
	}
	return []string{o.GetMetadata().GetName(), typ, strconv.Itoa(len(o.GetData())), age(now, o.GetMetadata().GetCreationTime())}
}

func podDisruptionBudgetRow(o *ordov1.PodDisruptionBudget, now time.Time, _ bool) []string {
	return []string{
		o.GetMetadata().GetName(),
		orNA(o.GetSpec().GetMinAvailable()),
		orNA(o.GetSpec().GetMaxUnavailable()),
		strconv.Itoa(int(o.GetStatus().GetDisruptionsAllowed())),
		age(now, o.GetMetadata().GetCreationTime()),
	}
}

// orNA is s, or "N/A" as kubectl prints an unset budget.
func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}
