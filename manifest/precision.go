package manifest

import (
	"strconv"
	"strings"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Probe times below one second do not fit Kubernetes' whole seconds: when
// ordo prints an object the Kubernetes way (get -o yaml) it rounds them up
// and keeps the exact value in a pod template annotation,
// ordo.dev/<container>.<readiness|liveness|startup>.<initial-delay|period|timeout>-ms.
// Applied again, the annotation restores the value and is dropped, so the
// template (and its revision) is what it was.

const precisionPrefix = "ordo.dev/"

// restorePrecision applies and removes the probe-time annotations of t.
func restorePrecision(t *ordov1.PodTemplate) {
	ann := t.GetMetadata().GetAnnotations()
	if len(ann) == 0 {
		return
	}
	containers := map[string]*ordov1.Container{}
	for _, c := range append(append([]*ordov1.Container(nil), t.GetSpec().GetInitContainers()...), t.GetSpec().GetContainers()...) {
		containers[c.GetName()] = c
	}
	kept := map[string]string{}
	for k, v := range ann {
		name, ok := strings.CutPrefix(k, precisionPrefix)
		if !ok || !strings.HasSuffix(name, "-ms") {
			kept[k] = v
			continue
		}
		parts := strings.Split(strings.TrimSuffix(name, "-ms"), ".")
		ms, err := strconv.ParseInt(v, 10, 64)
		if len(parts) < 3 || err != nil || ms < 0 {
			kept[k] = v
			continue
		}
		field, which := parts[len(parts)-1], parts[len(parts)-2]
		c := containers[strings.Join(parts[:len(parts)-2], ".")]
		var p *ordov1.Probe
		switch which {
		case "readiness":
			p = c.GetReadinessProbe()
		case "liveness":
			p = c.GetLivenessProbe()
		case "startup":
			p = c.GetStartupProbe()
		}
		if p == nil {
			kept[k] = v
			continue
		}
		switch field {
		case "initial-delay":
			p.InitialDelayMs = ms
		case "period":
			p.PeriodMs = ms
		case "timeout":
			p.TimeoutMs = ms
		default:
			kept[k] = v
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	t.Metadata.Annotations = kept
}
