package manifest_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/manifest"
)

const seedStorage = `kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: local-storage
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv1
spec:
  capacity:
    storage: 1Gi
  accessModes:
  - ReadWriteOnce
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  local:
    path: /tmp
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values:
          - kube-node-1
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: myclaim
spec:
  accessModes:
    - ReadWriteOnce
  volumeMode: Filesystem
  resources:
    requests:
      storage: 8Gi
  storageClassName: slow
  selector:
    matchLabels:
      release: "stable"
    matchExpressions:
      - {key: environment, operator: In, values: [dev]}
`

func TestDecodeStorageObjects(t *testing.T) {
	res, err := manifest.Decode([]byte(seedStorage))
	if err != nil {
		t.Fatal(err)
	}
	objs := res.Objects
	sc := objs[0].GetStorageClass()
	if sc.GetVolumeBindingMode() != "WaitForFirstConsumer" || sc.GetReclaimPolicy() != "Delete" || sc.GetIsDefault() {
		t.Errorf("storage class = %v", sc)
	}
	if kind, ns, name := manifest.Ref(objs[0]); kind != "StorageClass" || ns != "" || name != "local-storage" {
		t.Errorf("Ref = %s %q %s", kind, ns, name)
	}
	pv := objs[1].GetPersistentVolume()
	if pv.GetSpec().GetCapacityBytes() != 1<<30 || pv.GetSpec().GetLocal().GetPath() != "/tmp" || pv.GetSpec().GetReclaimPolicy() != "Retain" ||
		pv.GetSpec().GetNodeAffinityRequired()[0].GetMatchExpressions()[0].GetValues()[0] != "kube-node-1" {
		t.Errorf("pv = %v", pv)
	}
	pvc := objs[2].GetPersistentVolumeClaim()
	if pvc.GetMetadata().GetNamespace() != "default" || pvc.GetSpec().GetStorageBytes() != 8<<30 || !pvc.GetSpec().GetStorageClassSet() ||
		pvc.GetSpec().GetSelector().GetMatchLabels()["release"] != "stable" || len(pvc.GetSpec().GetSelector().GetMatchExpressions()) != 1 {
		t.Errorf("pvc = %v", pvc)
	}
}

func TestDecodeStorageErrors(t *testing.T) {
	pv := func(spec string) string {
		return "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1}\nspec:\n" + spec
	}
	for _, tc := range []struct{ doc, want string }{
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  local: {path: /data}\n"), `PersistentVolume pv1: spec.nodeAffinity: required for a local volume`},
		{pv("  capacity: {storage: lots}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n"), `spec.capacity.storage: "lots" is not a quantity`},
		{pv("  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n"), `spec.capacity.storage: required`},
		{pv("  capacity: {storage: 1Gi}\n  hostPath: {path: /data}\n"), `spec.accessModes: required`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [RWO]\n  hostPath: {path: /data}\n"), `spec.accessModes[0]: "RWO" is not supported`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Recycle\n  hostPath: {path: /data}\n"), `spec.persistentVolumeReclaimPolicy: "Recycle" is not supported`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: data}\n"), `spec.hostPath.path: "data": must be an absolute path`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n"), `spec: must have exactly one volume source`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  iscsi: {}\n"), `spec.iscsi: field not supported`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteMany]\n  nfs: {path: /export}\n"), `spec.nfs.server: required`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  mountOptions: [ro]\n  hostPath: {path: /data}\n"), `spec.mountOptions: only supported for nfs volumes`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  volumeMode: Block\n  hostPath: {path: /data}\n"), `spec.volumeMode: "Block" is not supported`},
		{"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce]}\n", `spec.resources.requests.storage: required`},
		{"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\n", `StorageClass fast: provisioner: required`},
		{"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: x\nallowedTopologies: [{matchLabelExpressions: [{key: zone, values: [a]}]}]\n", `allowedTopologies: field not supported`},
		{pv("  capacity: {storage: 500m}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n"), `spec.capacity.storage: "500m" is not a whole number of bytes`},
		{pv("  capacity: {storage: -1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n"), `spec.capacity.storage: "-1Gi": must not be negative`},
		{pv("  capacity: {storage: 9Ei}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n"), `spec.capacity.storage: "9Ei" is too large`},
		{pv("  capacity: {storage: 1Gi, cpu: 1}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n"), `spec.capacity.cpu: not supported (only storage)`},
		{pv("  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /data}\n  claimRef: {name: c}\n  csi: {driver: d, volumeHandle: h}\n"), `spec.csi: field not supported`},
		{"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: Later\n", `volumeBindingMode: "Later" is not supported`},
		{"apiVersion: v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: kubernetes.io/no-provisioner\n", `apiVersion: "v1" is not supported for kind StorageClass (want storage.k8s.io/v1)`},
	} {
		_, err := manifest.Decode([]byte(tc.doc))
		if err == nil || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%q)\nerror = %v\nwant   %q", tc.doc, err, tc.want)
		}
	}
}

func TestDefaultStorageClassAnnotation(t *testing.T) {
	res, err := manifest.Decode([]byte("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: std\n  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}\nprovisioner: kubernetes.io/no-provisioner\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc := res.Objects[0].GetStorageClass(); !sc.GetIsDefault() || sc.GetVolumeBindingMode() != "Immediate" {
		t.Errorf("storage class = %v", sc)
	}
}

func TestStorageExampleDecodes(t *testing.T) {
	data, err := os.ReadFile("../examples/web-local-storage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range res.Objects {
		k, _, _ := manifest.Ref(o)
		kinds[k]++
	}
	if kinds["StorageClass"] != 1 || kinds["PersistentVolume"] != 3 || kinds["StatefulSet"] != 1 || kinds["Service"] != 1 {
		t.Fatalf("kinds = %v", kinds)
	}
}
