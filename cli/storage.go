package cli

import (
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Storage kinds as the CLI names them.
const (
	kindPV  = "PersistentVolume"
	kindPVC = "PersistentVolumeClaim"
	kindSC  = "StorageClass"
)

func storageHeader(kind string, wide bool) []string {
	switch kind {
	case kindPV:
		h := []string{"NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "REASON", "AGE"}
		if wide {
			h = append(h, "SOURCE", "NODE AFFINITY")
		}
		return h
	case kindPVC:
		return []string{"NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE"}
	case kindSC:
		return []string{"NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "AGE"}
	}
	return nil
}

func shortModes(modes []string) string {
	out := make([]string, 0, len(modes))
	for _, m := range modes {
		out = append(out, manifest.AccessModeShort(m))
	}
	return strings.Join(out, ",")
}

func storageRow(m proto.Message, now time.Time, wide bool) []string {
	switch o := m.(type) {
	case *ordov1.PersistentVolume:
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
	case *ordov1.PersistentVolumeClaim:
		return []string{o.GetMetadata().GetName(), o.GetStatus().GetPhase(), o.GetSpec().GetVolumeName(), o.GetStatus().GetCapacity(),
			shortModes(o.GetStatus().GetAccessModes()), o.GetSpec().GetStorageClassName(), age(now, o.GetMetadata().GetCreationTime())}
	case *ordov1.StorageClass:
		name := o.GetMetadata().GetName()
		if o.GetIsDefault() {
			name += " (default)"
		}
		return []string{name, o.GetProvisioner(), o.GetReclaimPolicy(), o.GetVolumeBindingMode(), age(now, o.GetMetadata().GetCreationTime())}
	}
	return nil
}

func storageItems(kind string, resp *ordov1.ListResponse) []item {
	var out []item
	switch kind {
	case kindPV:
		for _, v := range resp.GetPersistentVolumes() {
			out = append(out, item{kind, v, v.GetMetadata()})
		}
	case kindPVC:
		for _, v := range resp.GetPersistentVolumeClaims() {
			out = append(out, item{kind, v, v.GetMetadata()})
		}
	case kindSC:
		for _, v := range resp.GetStorageClasses() {
			out = append(out, item{kind, v, v.GetMetadata()})
		}
	}
	return out
}

func storageEventItem(ev *ordov1.Event) (item, bool) {
	switch o := ev.GetObject(); {
	case o.GetPersistentVolume() != nil:
		return item{kindPV, o.GetPersistentVolume(), o.GetPersistentVolume().GetMetadata()}, true
	case o.GetPersistentVolumeClaim() != nil:
		return item{kindPVC, o.GetPersistentVolumeClaim(), o.GetPersistentVolumeClaim().GetMetadata()}, true
	case o.GetStorageClass() != nil:
		return item{kindSC, o.GetStorageClass(), o.GetStorageClass().GetMetadata()}, true
	}
	return item{}, false
}

// clusterScoped kinds have no namespace.
func clusterScoped(kind string) bool {
	return kind == kindNode || kind == kindPV || kind == kindSC
}
