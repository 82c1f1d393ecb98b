package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Rows and descriptions of ConfigMaps, Secrets and PodDisruptionBudgets, in
// kubectl's columns. A Secret's values are never shown here (only their
// sizes); `get -o yaml|json` prints them when asked.

func configMapRow(o *ordov1.ConfigMap, now time.Time, _ bool) []string {
	return []string{o.GetMetadata().GetName(), fmt.Sprint(len(o.GetData()) + len(o.GetBinaryData())), age(now, o.GetMetadata().GetCreationTime())}
}

func secretType(o *ordov1.Secret) string {
	if o.GetType() == "" {
		return "Opaque"
	}
	return o.GetType()
}

func secretRow(o *ordov1.Secret, now time.Time, _ bool) []string {
	return []string{o.GetMetadata().GetName(), secretType(o), fmt.Sprint(len(o.GetData())), age(now, o.GetMetadata().GetCreationTime())}
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

func podDisruptionBudgetRow(o *ordov1.PodDisruptionBudget, now time.Time, _ bool) []string {
	return []string{o.GetMetadata().GetName(), orNA(o.GetSpec().GetMinAvailable()), orNA(o.GetSpec().GetMaxUnavailable()),
		fmt.Sprint(o.GetStatus().GetDisruptionsAllowed()), age(now, o.GetMetadata().GetCreationTime())}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (a *app) describeConfigMap(_ context.Context, d *describer, o *ordov1.ConfigMap) error {
	d.meta(o.GetMetadata(), true)
	fmt.Fprintln(d.w, "\nData\n====")
	for _, k := range sortedKeys(o.GetData()) {
		fmt.Fprintf(d.w, "%s:\n----\n%s\n\n", k, strings.TrimRight(o.GetData()[k], "\n"))
	}
	fmt.Fprintln(d.w, "\nBinaryData\n====")
	for _, k := range sortedKeys(o.GetBinaryData()) {
		fmt.Fprintf(d.w, "%s: %d bytes\n", k, len(o.GetBinaryData()[k]))
	}
	return nil
}

func (a *app) describeSecret(_ context.Context, d *describer, o *ordov1.Secret) error {
	d.meta(o.GetMetadata(), true)
	d.kv(0, "Type", "%s", secretType(o))
	fmt.Fprintln(d.w, "\nData\n====")
	for _, k := range sortedKeys(o.GetData()) {
		fmt.Fprintf(d.w, "%s:  %d bytes\n", k, len(o.GetData()[k]))
	}
	return nil
}

func (a *app) describePodDisruptionBudget(_ context.Context, d *describer, o *ordov1.PodDisruptionBudget) error {
	d.meta(o.GetMetadata(), true)
	if v := o.GetSpec().GetMinAvailable(); v != "" {
		d.kv(0, "Min available", "%s", v)
	}
	if v := o.GetSpec().GetMaxUnavailable(); v != "" {
		d.kv(0, "Max unavailable", "%s", v)
	}
	d.kv(0, "Selector", "%s", formatSelector(o.GetSpec().GetSelector()))
	st := o.GetStatus()
	d.section(0, "Status")
	d.kv(1, "Allowed disruptions", "%d", st.GetDisruptionsAllowed())
	d.kv(1, "Current", "%d", st.GetCurrentHealthy())
	d.kv(1, "Desired", "%d", st.GetDesiredHealthy())
	d.kv(1, "Total", "%d", st.GetExpectedPods())
	return nil
}
