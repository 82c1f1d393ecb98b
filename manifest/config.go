package manifest

import (
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Configuration data (ConfigMap, Secret) and disruption budgets.

const (
	// MaxConfigBytes bounds the data of one ConfigMap or Secret, as in
	// Kubernetes.
	MaxConfigBytes = 1 << 20
	// DefaultSecretType is the type of a Secret that names none.
	DefaultSecretType = string(corev1.SecretTypeOpaque)
)

// ---------------------------------------------------------------- conversion

func (c *conv) configMap(in *corev1.ConfigMap) *ordov1.ConfigMap {
	return &ordov1.ConfigMap{
		Metadata:   convertMeta(&in.ObjectMeta),
		Data:       in.Data,
		BinaryData: in.BinaryData,
		Immutable:  val(in.Immutable),
	}
}

// secret merges stringData into data, stringData winning, as the
// Kubernetes API server does on write.
func (c *conv) secret(in *corev1.Secret) *ordov1.Secret {
	out := &ordov1.Secret{
		Metadata:  convertMeta(&in.ObjectMeta),
		Type:      string(in.Type),
		Immutable: val(in.Immutable),
	}
	if len(in.Data)+len(in.StringData) > 0 {
		out.Data = map[string][]byte{}
	}
	for k, v := range in.Data {
		out.Data[k] = v
	}
	for k, v := range in.StringData {
		out.Data[k] = []byte(v)
	}
	return out
}

func (c *conv) podDisruptionBudget(in *policyv1.PodDisruptionBudget) *ordov1.PodDisruptionBudget {
	out := &ordov1.PodDisruptionBudget{
		Metadata: convertMeta(&in.ObjectMeta),
		Spec:     &ordov1.PodDisruptionBudgetSpec{Selector: convertSelector(in.Spec.Selector)},
	}
	if v := in.Spec.MinAvailable; v != nil {
		out.Spec.MinAvailable = v.String()
	}
	if v := in.Spec.MaxUnavailable; v != nil {
		out.Spec.MaxUnavailable = v.String()
	}
	return out
}

// ---------------------------------------------------------------- validation

// configKey returns why k is not a valid key of a ConfigMap or Secret, or "".
func configKey(k string) string {
	if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

func normalizeConfigMap(cm *ordov1.ConfigMap, r *report) {
	normalizeMeta(&cm.Metadata, r)
	size := 0
	for _, k := range sortedStringKeys(cm.Data) {
		if msg := configKey(k); msg != "" {
			r.errorf("data["+k+"]", "invalid key: %s", msg)
		}
		size += len(k) + len(cm.Data[k])
	}
	for _, k := range sortedKeys(bytesKeys(cm.BinaryData)) {
		if msg := configKey(k); msg != "" {
			r.errorf("binaryData["+k+"]", "invalid key: %s", msg)
		}
		if _, ok := cm.Data[k]; ok {
			r.errorf("binaryData["+k+"]", "the key is in data too")
		}
		size += len(k) + len(cm.BinaryData[k])
	}
	if size > MaxConfigBytes {
		r.errorf("data", "must be no more than %d bytes in all, got %d", MaxConfigBytes, size)
	}
}

func normalizeSecret(s *ordov1.Secret, r *report) {
	normalizeMeta(&s.Metadata, r)
	if s.Type == "" {
		s.Type = DefaultSecretType
	}
	size := 0
	for _, k := range sortedKeys(bytesKeys(s.Data)) {
		if msg := configKey(k); msg != "" {
			r.errorf("data["+k+"]", "invalid key: %s", msg)
		}
		size += len(k) + len(s.Data[k])
	}
	if size > MaxConfigBytes {
		r.errorf("data", "must be no more than %d bytes in all, got %d", MaxConfigBytes, size)
	}
}

func normalizePDB(b *ordov1.PodDisruptionBudget, r *report) {
	normalizeMeta(&b.Metadata, r)
	if b.Spec == nil {
		r.errorf("spec", "required")
		return
	}
	s := b.Spec
	switch {
	case s.MinAvailable != "" && s.MaxUnavailable != "":
		r.errorf("spec", "minAvailable and maxUnavailable may not both be set")
	case s.MinAvailable == "" && s.MaxUnavailable == "":
		r.errorf("spec", "one of minAvailable and maxUnavailable is required")
	}
	budgetValue("spec.minAvailable", s.MinAvailable, r)
	budgetValue("spec.maxUnavailable", s.MaxUnavailable, r)
	if s.Selector != nil {
		validateSelector("spec.selector", s.Selector, r)
	}
}

// budgetValue checks a number of pods (>= 0) or a percentage ("50%").
func budgetValue(p, v string, r *report) {
	if v == "" {
		return
	}
	if strings.HasSuffix(v, "%") {
		if errs := validation.IsValidPercent(v); len(errs) > 0 {
			r.errorf(p, "%q: %s", v, strings.Join(errs, "; "))
			return
		}
		if n, _ := strconv.Atoi(strings.TrimSuffix(v, "%")); n > 100 {
			r.errorf(p, "%q: must be no more than 100%%", v)
		}
		return
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		r.errorf(p, "%q: must be a number of pods or a percentage", v)
	} else if n < 0 {
		r.errorf(p, "must be >= 0")
	}
}

func bytesKeys(m map[string][]byte) map[string]any {
	out := make(map[string]any, len(m))
	for k := range m {
		out[k] = nil
	}
	return out
}

func sortedStringKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
