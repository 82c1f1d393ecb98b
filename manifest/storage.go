package manifest

import (
	"fmt"
	"math"
	"math/big"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Storage values and defaults.
const (
	ReadWriteOnce    = "ReadWriteOnce"
	ReadOnlyMany     = "ReadOnlyMany"
	ReadWriteMany    = "ReadWriteMany"
	ReadWriteOncePod = "ReadWriteOncePod"

	ReclaimRetain = "Retain"
	ReclaimDelete = "Delete"

	BindingImmediate            = "Immediate"
	BindingWaitForFirstConsumer = "WaitForFirstConsumer"

	RetentionRetain = "Retain"
	RetentionDelete = "Delete"

	NoProvisioner = "kubernetes.io/no-provisioner"
	// AnnotationDefaultClass marks the default StorageClass ("true").
	AnnotationDefaultClass = "storageclass.kubernetes.io/is-default-class"
	// AnnotationBetaStorageClass is the class of a claim as manifests wrote
	// it before storageClassName; it is read as storageClassName.
	AnnotationBetaStorageClass = "volume.beta.kubernetes.io/storage-class"

	VolumeModeFilesystem = "Filesystem"
)

// AccessModeShort is the abbreviation kubectl prints (RWO, ROX, RWX, RWOP).
func AccessModeShort(m string) string {
	switch m {
	case ReadWriteOnce:
		return "RWO"
	case ReadOnlyMany:
		return "ROX"
	case ReadWriteMany:
		return "RWX"
	case ReadWriteOncePod:
		return "RWOP"
	}
	return m
}

// ---------------------------------------------------------------- conversion

func accessModes(in []corev1.PersistentVolumeAccessMode) []string {
	var out []string
	for _, m := range in {
		out = append(out, string(m))
	}
	return out
}

// storage is the storage quantity of a resource list; other resources are
// reported.
func (c *conv) storage(p string, l corev1.ResourceList) string {
	out := ""
	for _, name := range sortedResourceNames(l) {
		if name != string(corev1.ResourceStorage) {
			c.r.badf(p+"."+name, "not supported (only storage)")
			continue
		}
		q := l[corev1.ResourceStorage]
		out = c.quantity(p+"."+name, &q)
	}
	return out
}

func (c *conv) persistentVolume(in *corev1.PersistentVolume) *ordov1.PersistentVolume {
	s := &in.Spec
	out := &ordov1.PersistentVolume{
		Metadata: convertMeta(&in.ObjectMeta),
		Spec: &ordov1.PersistentVolumeSpec{
			Capacity:         c.storage("spec.capacity", s.Capacity),
			AccessModes:      accessModes(s.AccessModes),
			ReclaimPolicy:    string(s.PersistentVolumeReclaimPolicy),
			StorageClassName: s.StorageClassName,
			MountOptions:     s.MountOptions,
			VolumeMode:       string(val(s.VolumeMode)),
		},
	}
	if l := s.Local; l != nil {
		out.Spec.Local = &ordov1.LocalVolumeSource{Path: l.Path}
	}
	if h := s.HostPath; h != nil {
		out.Spec.HostPath = &ordov1.HostPathVolumeSource{Path: h.Path, Type: string(val(h.Type))}
	}
	if n := s.NFS; n != nil {
		out.Spec.Nfs = &ordov1.NFSVolumeSource{Server: n.Server, Path: n.Path, ReadOnly: n.ReadOnly}
	}
	if a := s.NodeAffinity; a != nil && a.Required != nil {
		for i := range a.Required.NodeSelectorTerms {
			out.Spec.NodeAffinityRequired = append(out.Spec.NodeAffinityRequired, convertTerm(&a.Required.NodeSelectorTerms[i]))
		}
		if len(out.Spec.NodeAffinityRequired) == 0 {
			c.r.badf("spec.nodeAffinity.required.nodeSelectorTerms", "must have at least one term")
		}
	}
	return out
}

// claimSpec converts the spec of a claim or claim template; the class may
// be given by the annotation that preceded storageClassName.
func (c *conv) claimSpec(p string, s *corev1.PersistentVolumeClaimSpec, annotations map[string]string) *ordov1.PersistentVolumeClaimSpec {
	out := &ordov1.PersistentVolumeClaimSpec{
		AccessModes: accessModes(s.AccessModes),
		Selector:    convertSelector(s.Selector),
		VolumeName:  s.VolumeName,
		VolumeMode:  string(val(s.VolumeMode)),
		Storage:     c.storage(p+".resources.requests", s.Resources.Requests),
	}
	if s.StorageClassName != nil {
		out.StorageClassName = *s.StorageClassName
		out.StorageClassSet = true
	}
	if class, ok := annotations[AnnotationBetaStorageClass]; ok {
		if out.StorageClassSet && out.StorageClassName != class {
			c.r.badf(p+".storageClassName", "%q differs from the annotation %s %q", out.StorageClassName, AnnotationBetaStorageClass, class)
		}
		out.StorageClassName, out.StorageClassSet = class, true
	}
	return out
}

func (c *conv) persistentVolumeClaim(in *corev1.PersistentVolumeClaim) *ordov1.PersistentVolumeClaim {
	return &ordov1.PersistentVolumeClaim{Metadata: convertMeta(&in.ObjectMeta), Spec: c.claimSpec("spec", &in.Spec, in.Annotations)}
}

func (c *conv) storageClass(in *storagev1.StorageClass) *ordov1.StorageClass {
	if in.Provisioner != "" && in.Provisioner != NoProvisioner {
		c.r.warnf("provisioner", "volumes are not provisioned here: claims of this class bind to PersistentVolumes made for it (as with %s)", NoProvisioner)
	}
	return &ordov1.StorageClass{
		Metadata:          convertMeta(&in.ObjectMeta),
		Provisioner:       in.Provisioner,
		VolumeBindingMode: string(val(in.VolumeBindingMode)),
		ReclaimPolicy:     string(val(in.ReclaimPolicy)),
		MountOptions:      in.MountOptions,
	}
}

// ---------------------------------------------------------------- quantities

// quantityBytes parses a quantity of bytes ("1Gi", "500Mi", "10G"), which
// must be a whole number that fits in 63 bits.
func quantityBytes(p, s string, r *report) (int64, bool) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		r.errorf(p, "%q is not a quantity (examples: 1Gi, 500Mi, 10G)", s)
		return 0, false
	}
	if q.Sign() < 0 {
		r.errorf(p, "%q: must not be negative", s)
		return 0, false
	}
	d := q.AsDec()
	v := new(big.Rat).SetInt(d.UnscaledBig())
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(int(d.Scale())))), nil)
	if d.Scale() > 0 {
		v.Quo(v, new(big.Rat).SetInt(scale))
	} else {
		v.Mul(v, new(big.Rat).SetInt(scale))
	}
	if !v.IsInt() {
		r.errorf(p, "%q is not a whole number of bytes", s)
		return 0, false
	}
	// ParseQuantity holds larger values as the largest int64.
	if n := v.Num(); !n.IsInt64() || n.Int64() == math.MaxInt64 {
		r.errorf(p, "%q is too large", s)
		return 0, false
	}
	return v.Num().Int64(), true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// ---------------------------------------------------------------- validation

func normalizeClusterMeta(md **ordov1.ObjectMeta, r *report) {
	if *md == nil {
		*md = &ordov1.ObjectMeta{}
	}
	m := *md
	if m.Name == "" {
		r.errorf("metadata.name", "required")
	} else if msg := dns1123Subdomain(m.Name); msg != "" {
		r.errorf("metadata.name", "%q: %s", m.Name, msg)
	}
	if m.Namespace != "" {
		r.errorf("metadata.namespace", "must not be set: the object is cluster-wide")
	}
	validateLabels("metadata.labels", m.Labels, r)
	validateAnnotations("metadata.annotations", m.Annotations, r)
}

func normalizeAccessModes(p string, modes []string, r *report) {
	if len(modes) == 0 {
		r.errorf(p, "required (ReadWriteOnce, ReadOnlyMany or ReadWriteMany)")
		return
	}
	seen := map[string]bool{}
	for i, m := range modes {
		switch m {
		case ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod:
		default:
			r.errorf(index(p, i), "%q is not supported (supported: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod)", m)
			continue
		}
		if seen[m] {
			r.errorf(index(p, i), "duplicate access mode %q", m)
		}
		seen[m] = true
	}
}

func normalizeVolumeMode(p string, m *string, r *report) {
	switch *m {
	case "":
		*m = VolumeModeFilesystem
	case VolumeModeFilesystem:
	default:
		r.errorf(p, "%q is not supported (supported: Filesystem)", *m)
	}
}

func normalizeClassName(p, name string, r *report) {
	if name == "" {
		return
	}
	if msg := dns1123Subdomain(name); msg != "" {
		r.errorf(p, "%q: %s", name, msg)
	}
}

// absPath checks that p is an absolute, clean path without "..".
func absPath(field, p string, r *report) {
	if p == "" {
		r.errorf(field, "required")
		return
	}
	if !strings.HasPrefix(p, "/") {
		r.errorf(field, "%q: must be an absolute path", p)
		return
	}
	if hasDotDot(p) {
		r.errorf(field, "%q: must not contain '..'", p)
	}
}

// relPath checks that p is a relative path that stays below its directory.
func relPath(field, p string, r *report) {
	switch {
	case p == "":
		r.errorf(field, "required")
	case strings.HasPrefix(p, "/"):
		r.errorf(field, "%q: must be a relative path", p)
	case hasDotDot(p):
		r.errorf(field, "%q: must not contain '..'", p)
	}
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

func validHostPathType(field, t string, r *report) {
	switch t {
	case "", "Directory", "DirectoryOrCreate", "File", "FileOrCreate":
		return
	}
	r.errorf(field, "%q is not supported (supported: \"\", Directory, DirectoryOrCreate, File, FileOrCreate)", t)
}

func normalizePV(pv *ordov1.PersistentVolume, r *report) {
	normalizeClusterMeta(&pv.Metadata, r)
	if pv.Spec == nil {
		r.errorf("spec", "required")
		return
	}
	s := pv.Spec
	if s.Capacity == "" {
		r.errorf("spec.capacity.storage", "required")
	} else if b, ok := quantityBytes("spec.capacity.storage", s.Capacity, r); ok {
		if b <= 0 {
			r.errorf("spec.capacity.storage", "must be greater than zero")
		}
		s.CapacityBytes = b
	}
	normalizeAccessModes("spec.accessModes", s.AccessModes, r)
	switch s.ReclaimPolicy {
	case "":
		s.ReclaimPolicy = ReclaimRetain
	case ReclaimRetain, ReclaimDelete:
	default:
		r.errorf("spec.persistentVolumeReclaimPolicy", "%q is not supported (supported: Retain, Delete)", s.ReclaimPolicy)
	}
	normalizeClassName("spec.storageClassName", s.StorageClassName, r)
	normalizeVolumeMode("spec.volumeMode", &s.VolumeMode, r)
	sources := 0
	if s.Local != nil {
		sources++
		absPath("spec.local.path", s.Local.Path, r)
		if len(s.NodeAffinityRequired) == 0 {
			r.errorf("spec.nodeAffinity", "required for a local volume (the node that holds spec.local.path)")
		}
	}
	if s.HostPath != nil {
		sources++
		absPath("spec.hostPath.path", s.HostPath.Path, r)
		validHostPathType("spec.hostPath.type", s.HostPath.Type, r)
	}
	if s.Nfs != nil {
		sources++
		if s.Nfs.Server == "" {
			r.errorf("spec.nfs.server", "required")
		} else if strings.ContainsAny(s.Nfs.Server, " \t,/") {
			r.errorf("spec.nfs.server", "%q: must be a host name or an address", s.Nfs.Server)
		}
		absPath("spec.nfs.path", s.Nfs.Path, r)
	} else if len(s.MountOptions) > 0 {
		r.errorf("spec.mountOptions", "only supported for nfs volumes")
	}
	for i, o := range s.MountOptions {
		if o == "" || strings.ContainsAny(o, ", \t\n") {
			r.errorf(index("spec.mountOptions", i), "%q: one option per entry, without commas or spaces", o)
		}
	}
	if sources != 1 {
		r.errorf("spec", "must have exactly one volume source (local, hostPath or nfs), got %d", sources)
	}
	for i, t := range s.NodeAffinityRequired {
		tp := index("spec.nodeAffinity.required.nodeSelectorTerms", i) + ".matchExpressions"
		if t == nil || len(t.MatchExpressions) == 0 {
			r.errorf(tp, "must have at least one expression")
			continue
		}
		for j, e := range t.MatchExpressions {
			validateRequirement(index(tp, j), e.GetKey(), e.GetOperator(), e.GetValues(), r)
		}
	}
}

func normalizeClaimSpec(p string, s *ordov1.PersistentVolumeClaimSpec, r *report) {
	if s == nil {
		r.errorf(p, "required")
		return
	}
	normalizeAccessModes(p+".accessModes", s.AccessModes, r)
	sp := p + ".resources.requests.storage"
	if s.Storage == "" {
		r.errorf(sp, "required")
	} else if b, ok := quantityBytes(sp, s.Storage, r); ok {
		if b <= 0 {
			r.errorf(sp, "must be greater than zero")
		}
		s.StorageBytes = b
	}
	if s.StorageClassName != "" {
		s.StorageClassSet = true
	}
	normalizeClassName(p+".storageClassName", s.StorageClassName, r)
	if s.Selector != nil {
		validateSelector(p+".selector", s.Selector, r)
	}
	normalizeVolumeMode(p+".volumeMode", &s.VolumeMode, r)
}

func normalizePVC(c *ordov1.PersistentVolumeClaim, r *report) {
	normalizeMeta(&c.Metadata, r)
	normalizeClaimSpec("spec", c.Spec, r)
}

func normalizeSC(sc *ordov1.StorageClass, r *report) {
	normalizeClusterMeta(&sc.Metadata, r)
	if sc.Provisioner == "" {
		r.errorf("provisioner", "required (%s: volumes are created by an administrator)", NoProvisioner)
	}
	switch sc.VolumeBindingMode {
	case "":
		sc.VolumeBindingMode = BindingImmediate
	case BindingImmediate, BindingWaitForFirstConsumer:
	default:
		r.errorf("volumeBindingMode", "%q is not supported (supported: Immediate, WaitForFirstConsumer)", sc.VolumeBindingMode)
	}
	switch sc.ReclaimPolicy {
	case "":
		sc.ReclaimPolicy = ReclaimDelete
	case ReclaimRetain, ReclaimDelete:
	default:
		r.errorf("reclaimPolicy", "%q is not supported (supported: Retain, Delete)", sc.ReclaimPolicy)
	}
	switch v := sc.GetMetadata().GetAnnotations()[AnnotationDefaultClass]; v {
	case "true":
		sc.IsDefault = true
	case "", "false":
	default:
		if !sc.IsDefault {
			r.errorf("metadata.annotations["+AnnotationDefaultClass+"]", "%q: must be true or false", v)
		}
	}
}

// normalizeSetStorage validates the claim templates, the retention policy and
// the template's volume mounts, which may name a pod volume or a claim template.
func normalizeSetStorage(spec *ordov1.StatefulSetSpec, r *report) {
	names := map[string]bool{}
	for i, t := range spec.VolumeClaimTemplates {
		p := index("spec.volumeClaimTemplates", i)
		if t == nil {
			r.errorf(p, "required")
			continue
		}
		switch name := t.GetMetadata().GetName(); {
		case name == "":
			r.errorf(p+".metadata.name", "required")
		case dns1123Label(name) != "":
			r.errorf(p+".metadata.name", "%q: %s", name, dns1123Label(name))
		case names[name]:
			r.errorf(p+".metadata.name", "duplicate claim template %q", name)
		default:
			names[name] = true
		}
		validateLabels(p+".metadata.labels", t.GetMetadata().GetLabels(), r)
		normalizeClaimSpec(p+".spec", t.Spec, r)
	}
	if rp := spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		for _, f := range []struct {
			name string
			v    *string
		}{{"whenDeleted", &rp.WhenDeleted}, {"whenScaled", &rp.WhenScaled}} {
			switch *f.v {
			case "":
				*f.v = RetentionRetain
			case RetentionRetain, RetentionDelete:
			default:
				r.errorf("spec.persistentVolumeClaimRetentionPolicy."+f.name, "%q is not supported (supported: Retain, Delete)", *f.v)
			}
		}
	}
	ps := spec.GetTemplate().GetSpec()
	vols := map[string]bool{}
	for i, v := range ps.GetVolumes() {
		if names[v.GetName()] {
			r.errorf(index("spec.template.spec.volumes", i)+".name", "%q is also a volume claim template", v.GetName())
		}
		vols[v.GetName()] = true
	}
	for _, list := range []struct {
		field      string
		containers []*ordov1.Container
	}{{"initContainers", ps.GetInitContainers()}, {"containers", ps.GetContainers()}} {
		for i, c := range list.containers {
			for j, m := range c.GetVolumeMounts() {
				mp := fmt.Sprintf("spec.template.spec.%s[%d].volumeMounts[%d].name", list.field, i, j)
				if m.GetName() != "" && !vols[m.GetName()] && !names[m.GetName()] {
					r.errorf(mp, "%q names no volume and no volume claim template", m.GetName())
				}
			}
		}
	}
}

// normalizeVolumes validates a pod spec's volumes.
func normalizeVolumes(p string, ps *ordov1.PodSpec, containers map[string]bool, r *report) {
	seen := map[string]bool{}
	for i, v := range ps.Volumes {
		vp := index(p+".volumes", i)
		if v == nil {
			r.errorf(vp, "required")
			continue
		}
		switch {
		case v.Name == "":
			r.errorf(vp+".name", "required")
		case dns1123Label(v.Name) != "":
			r.errorf(vp+".name", "%q: %s", v.Name, dns1123Label(v.Name))
		case seen[v.Name]:
			r.errorf(vp+".name", "duplicate volume name %q", v.Name)
		}
		seen[v.Name] = true
		n := 0
		if h := v.HostPath; h != nil {
			n++
			absPath(vp+".hostPath.path", h.Path, r)
			validHostPathType(vp+".hostPath.type", h.Type, r)
		}
		if e := v.EmptyDir; e != nil {
			n++
			if e.Medium != "" {
				r.errorf(vp+".emptyDir.medium", "%q is not supported (only the node's disk)", e.Medium)
			}
		}
		if c := v.PersistentVolumeClaim; c != nil {
			n++
			if c.ClaimName == "" {
				r.errorf(vp+".persistentVolumeClaim.claimName", "required")
			} else if msg := dns1123Subdomain(c.ClaimName); msg != "" {
				r.errorf(vp+".persistentVolumeClaim.claimName", "%q: %s", c.ClaimName, msg)
			}
		}
		if cm := v.ConfigMap; cm != nil {
			n++
			normalizeConfigSource(vp+".configMap", "name", cm.Name, cm.Items, cm.DefaultMode, r)
		}
		if s := v.Secret; s != nil {
			n++
			normalizeConfigSource(vp+".secret", "secretName", s.SecretName, s.Items, s.DefaultMode, r)
		}
		if d := v.DownwardApi; d != nil {
			n++
			normalizeDownward(vp+".downwardAPI", d, containers, r)
			validMode(vp+".downwardAPI.defaultMode", d.DefaultMode, r)
		}
		if pr := v.Projected; pr != nil {
			n++
			validMode(vp+".projected.defaultMode", pr.DefaultMode, r)
			for j, s := range pr.Sources {
				sp := index(vp+".projected.sources", j)
				k := 0
				if s.GetConfigMap() != nil {
					k++
					normalizeConfigSource(sp+".configMap", "name", s.ConfigMap.Name, s.ConfigMap.Items, nil, r)
				}
				if s.GetSecret() != nil {
					k++
					normalizeConfigSource(sp+".secret", "name", s.Secret.SecretName, s.Secret.Items, nil, r)
				}
				if s.GetDownwardApi() != nil {
					k++
					normalizeDownward(sp+".downwardAPI", s.DownwardApi, containers, r)
				}
				if k != 1 {
					r.errorf(sp, "must have exactly one source (configMap, secret or downwardAPI), got %d", k)
				}
			}
		}
		if n != 1 {
			r.errorf(vp, "must have exactly one volume source (hostPath, emptyDir, persistentVolumeClaim, configMap, secret, downwardAPI or projected), got %d", n)
		}
	}
}

// normalizeConfigSource validates a ConfigMap or Secret volume source.
func normalizeConfigSource(p, nameField, name string, items []*ordov1.KeyToPath, mode *int32, r *report) {
	if name == "" {
		r.errorf(p+"."+nameField, "required")
	} else if msg := dns1123Subdomain(name); msg != "" {
		r.errorf(p+"."+nameField, "%q: %s", name, msg)
	}
	validMode(p+".defaultMode", mode, r)
	paths := map[string]bool{}
	for i, it := range items {
		ip := index(p+".items", i)
		if it == nil {
			r.errorf(ip, "required")
			continue
		}
		if it.Key == "" {
			r.errorf(ip+".key", "required")
		} else if msg := configKey(it.Key); msg != "" {
			r.errorf(ip+".key", "%q: %s", it.Key, msg)
		}
		relPath(ip+".path", it.Path, r)
		if paths[path.Clean(it.Path)] {
			r.errorf(ip+".path", "%q is written twice", it.Path)
		}
		paths[path.Clean(it.Path)] = true
		validMode(ip+".mode", it.Mode, r)
	}
}

func normalizeDownward(p string, d *ordov1.DownwardAPIVolumeSource, containers map[string]bool, r *report) {
	paths := map[string]bool{}
	for i, f := range d.Items {
		ip := index(p+".items", i)
		if f == nil {
			r.errorf(ip, "required")
			continue
		}
		relPath(ip+".path", f.Path, r)
		if paths[path.Clean(f.Path)] {
			r.errorf(ip+".path", "%q is written twice", f.Path)
		}
		paths[path.Clean(f.Path)] = true
		validMode(ip+".mode", f.Mode, r)
		n := 0
		if f.FieldRef != nil {
			n++
			validFieldPath(ip+".fieldRef.fieldPath", f.FieldRef.FieldPath, volumeFieldPaths, r)
		}
		if rf := f.ResourceFieldRef; rf != nil {
			n++
			if rf.ContainerName == "" {
				r.errorf(ip+".resourceFieldRef.containerName", "required")
			}
			validResourceRef(ip+".resourceFieldRef", rf, containers, r)
		}
		if n != 1 {
			r.errorf(ip, "must have exactly one of fieldRef and resourceFieldRef, got %d", n)
		}
	}
}

// validMode checks a file mode: 0 to 0777.
func validMode(p string, m *int32, r *report) {
	if m != nil && (*m < 0 || *m > 0o777) {
		r.errorf(p, "%d: must be a file mode between 0 and 0777 (511)", *m)
	}
}

// normalizeMounts validates a container's volume mounts' paths.
func normalizeMounts(p string, c *ordov1.Container, r *report) {
	dests := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := index(p+".volumeMounts", i)
		if m == nil {
			r.errorf(mp, "required")
			continue
		}
		if m.Name == "" {
			r.errorf(mp+".name", "required")
		}
		n := len(r.errs)
		absPath(mp+".mountPath", m.MountPath, r)
		if len(r.errs) == n {
			clean := path.Clean(m.MountPath)
			if clean == "/" {
				r.errorf(mp+".mountPath", "must not be /")
			} else if dests[clean] {
				r.errorf(mp+".mountPath", "%q is mounted twice", m.MountPath)
			}
			dests[clean] = true
		}
		if s := m.SubPath; s != "" {
			if strings.HasPrefix(s, "/") {
				r.errorf(mp+".subPath", "%q: must be a relative path", s)
			} else if hasDotDot(s) {
				r.errorf(mp+".subPath", "%q: must not contain '..'", s)
			}
		}
	}
}
