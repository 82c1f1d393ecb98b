package cli

import (
	"strings"
	"time"

	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Table rows of the storage kinds (PersistentVolume, PersistentVolumeClaim,
// StorageClass).

func shortModes(modes []string) string {
	out := make([]string, 0, len(modes))
	for _, m := range modes {
		out = append(out, manifest.AccessModeShort(m))
	}
	return strings.Join(out, ",")
}

func persistentVolumeRow(o *ordov1.PersistentVolume, now time.Time, wide bool) []string {
	s := o.GetSpec()
	claim := ""
	if r := s.GetClaimRef(); r != nil {
		claim = r.GetNamespace() + "/" + r.GetName()
	}
	row := []string{o.GetMetadata().GetName(), s.GetCapacity(), shortModes(s.GetAccessModes()), s.GetReclaimPolicy(),
		o.GetStatus().GetPhase(), claim, s.GetStorageClassName(), o.GetStatus().GetReason(), age(now, o.GetMetadata().GetCreationTime())}
	if wide {
		src := ""
		switch {
		case s.GetLocal() != nil:
			src = "local:" + s.GetLocal().GetPath()
		case s.GetHostPath() != nil:
			src = "hostPath:" + s.GetHostPath().GetPath()
		case s.GetNfs() != nil:
			src = "nfs:" + s.GetNfs().GetServer() + ":" + s.GetNfs().GetPath()
		}
		var terms []string
		for _, t := range s.GetNodeAffinityRequired() {
			var exprs []string
			for _, e := range t.GetMatchExpressions() {
				exprs = append(exprs, e.GetKey()+" "+e.GetOperator()+" "+strings.Join(e.GetValues(), ","))
			}
			terms = append(terms, strings.Join(exprs, " && "))
		}
		row = append(row, src, orNone(strings.Join(terms, " || ")))
	}
	return row
}

func persistentVolumeClaimRow(o *ordov1.PersistentVolumeClaim, now time.Time, _ bool) []string {
	return []string{o.GetMetadata().GetName(), o.GetStatus().GetPhase(), o.GetSpec().GetVolumeName(), o.GetStatus().GetCapacity(),
		shortModes(o.GetStatus().GetAccessModes()), o.GetSpec().GetStorageClassName(), age(now, o.GetMetadata().GetCreationTime())}
}

func storageClassRow(o *ordov1.StorageClass, now time.Time, _ bool) []string {
	name := o.GetMetadata().GetName()
	if o.GetIsDefault() {
		name += " (default)"
	}
	return []string{name, o.GetProvisioner(), o.GetReclaimPolicy(), o.GetVolumeBindingMode(), age(now, o.GetMetadata().GetCreationTime())}
}
