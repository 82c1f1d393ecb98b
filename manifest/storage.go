package manifest

import (
	"fmt"
	"path"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
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

func convertPV(in *persistentVolume) (*ordov1.PersistentVolume, error) {
	s := &in.Spec
	out := &ordov1.PersistentVolume{
		Metadata: convertMeta(in.Metadata),
		Spec: &ordov1.PersistentVolumeSpec{
			AccessModes:      s.AccessModes,
			ReclaimPolicy:    s.PersistentVolumeReclaimPolicy,
			StorageClassName: s.StorageClassName,
			MountOptions:     s.MountOptions,
			VolumeMode:       s.VolumeMode,
		},
	}
	for k, v := range s.Capacity {
		if k != "storage" {
			return nil, errdefs.Invalid("spec.capacity."+k, "not supported (only storage)")
		}
		out.Spec.Capacity = v
	}
	if s.Local != nil {
		out.Spec.Local = &ordov1.LocalVolumeSource{Path: s.Local.Path}
	}
	if s.HostPath != nil {
		out.Spec.HostPath = &ordov1.HostPathVolumeSource{Path: s.HostPath.Path, Type: s.HostPath.Type}
	}
	if s.NFS != nil {
		out.Spec.Nfs = &ordov1.NFSVolumeSource{Server: s.NFS.Server, Path: s.NFS.Path, ReadOnly: s.NFS.ReadOnly}
	}
	if a := s.NodeAffinity; a != nil && a.Required != nil {
		for _, t := range a.Required.NodeSelectorTerms {
			out.Spec.NodeAffinityRequired = append(out.Spec.NodeAffinityRequired, convertTerm(t))
		}
		if len(out.Spec.NodeAffinityRequired) == 0 {
			return nil, errdefs.Invalid("spec.nodeAffinity.required.nodeSelectorTerms", "must have at least one term")
		}
	}
	return out, nil
}

func convertTerm(t nodeSelectorTerm) *ordov1.NodeSelectorTerm {
	term := &ordov1.NodeSelectorTerm{}
	for _, e := range t.MatchExpressions {
		term.MatchExpressions = append(term.MatchExpressions, &ordov1.NodeSelectorRequirement{Key: e.Key, Operator: e.Operator, Values: e.Values})
	}
	return term
}

func convertClaimSpec(path string, s *persistentVolumeClaimSpec) (*ordov1.PersistentVolumeClaimSpec, error) {
	out := &ordov1.PersistentVolumeClaimSpec{
		AccessModes: s.AccessModes,
		Selector:    convertSelector(s.Selector),
		VolumeName:  s.VolumeName,
		VolumeMode:  s.VolumeMode,
	}
	for k, v := range s.Resources.Requests {
		if k != "storage" {
			return nil, errdefs.Invalid(path+".resources.requests."+k, "not supported (only storage)")
		}
		out.Storage = v
	}
	if s.StorageClassName != nil {
		out.StorageClassName = *s.StorageClassName
		out.StorageClassSet = true
	}
	return out, nil
}

func convertPVC(in *persistentVolumeClaim) (*ordov1.PersistentVolumeClaim, error) {
	spec, err := convertClaimSpec("spec", &in.Spec)
	if err != nil {
		return nil, err
	}
	return &ordov1.PersistentVolumeClaim{Metadata: convertMeta(in.Metadata), Spec: spec}, nil
}

func convertSC(in *storageClass) *ordov1.StorageClass {
	out := &ordov1.StorageClass{
		Metadata:          convertMeta(in.Metadata),
		Provisioner:       in.Provisioner,
		VolumeBindingMode: in.VolumeBindingMode,
		ReclaimPolicy:     in.ReclaimPolicy,
		MountOptions:      in.MountOptions,
	}
	return out
}

// convertStorageFields fills the set's claim templates and retention policy.
func convertStorageFields(spec *statefulSetSpec, out *ordov1.StatefulSetSpec) error {
	for i := range spec.VolumeClaimTemplates {
		t := &spec.VolumeClaimTemplates[i]
		p := fmt.Sprintf("spec.volumeClaimTemplates[%d]", i)
		cs, err := convertClaimSpec(p+".spec", &t.Spec)
		if err != nil {
			return err
		}
		out.VolumeClaimTemplates = append(out.VolumeClaimTemplates, &ordov1.PersistentVolumeClaim{
			Metadata: &ordov1.ObjectMeta{Name: t.Metadata.Name, Labels: t.Metadata.Labels, Annotations: t.Metadata.Annotations},
			Spec:     cs,
		})
	}
	if r := spec.PersistentVolumeClaimRetentionPolicy; r != nil {
		out.PersistentVolumeClaimRetentionPolicy = &ordov1.PersistentVolumeClaimRetentionPolicy{WhenDeleted: r.WhenDeleted, WhenScaled: r.WhenScaled}
	}
	return nil
}

func convertVolumes(ps *podSpec, out *ordov1.PodSpec) {
	for _, v := range ps.Volumes {
		vol := &ordov1.Volume{Name: v.Name}
		if v.HostPath != nil {
			vol.HostPath = &ordov1.HostPathVolumeSource{Path: v.HostPath.Path, Type: v.HostPath.Type}
		}
		if v.EmptyDir != nil {
			vol.EmptyDir = &ordov1.EmptyDirVolumeSource{Medium: v.EmptyDir.Medium}
		}
		if v.PersistentVolumeClaim != nil {
			vol.PersistentVolumeClaim = &ordov1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaim.ClaimName, ReadOnly: v.PersistentVolumeClaim.ReadOnly}
		}
		out.Volumes = append(out.Volumes, vol)
	}
}

func convertMounts(in *container, out *ordov1.Container) {
	for _, m := range in.VolumeMounts {
		out.VolumeMounts = append(out.VolumeMounts, &ordov1.VolumeMount{Name: m.Name, MountPath: m.MountPath, SubPath: m.SubPath, ReadOnly: m.ReadOnly})
	}
}

// ---------------------------------------------------------------- validation

func normalizeClusterMeta(md **ordov1.ObjectMeta) error {
	if *md == nil {
		*md = &ordov1.ObjectMeta{}
	}
	m := *md
	if m.Name == "" {
		return errdefs.Invalid("metadata.name", "required")
	}
	if len(m.Name) > 253 || !dnsSubdomainRe.MatchString(m.Name) {
		return errdefs.Invalid("metadata.name", "%q: must be a DNS subdomain: lower-case letters, digits, '-' and '.'", m.Name)
	}
	if m.Namespace != "" {
		return errdefs.Invalid("metadata.namespace", "must not be set: the object is cluster-wide")
	}
	if err := validateLabels("metadata.labels", m.Labels); err != nil {
		return err
	}
	return validateAnnotations("metadata.annotations", m.Annotations)
}

func normalizeAccessModes(path string, modes []string) error {
	if len(modes) == 0 {
		return errdefs.Invalid(path, "required (ReadWriteOnce, ReadOnlyMany or ReadWriteMany)")
	}
	seen := map[string]bool{}
	for i, m := range modes {
		switch m {
		case ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod:
		default:
			return errdefs.Invalid(fmt.Sprintf("%s[%d]", path, i), "%q is not supported (supported: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod)", m)
		}
		if seen[m] {
			return errdefs.Invalid(fmt.Sprintf("%s[%d]", path, i), "duplicate access mode %q", m)
		}
		seen[m] = true
	}
	return nil
}

func normalizeVolumeMode(path string, m *string) error {
	switch *m {
	case "":
		*m = VolumeModeFilesystem
	case VolumeModeFilesystem:
	default:
		return errdefs.Invalid(path, "%q is not supported (supported: Filesystem)", *m)
	}
	return nil
}

func normalizeClassName(path, name string) error {
	if name != "" && (len(name) > 253 || !dnsSubdomainRe.MatchString(name)) {
		return errdefs.Invalid(path, "%q: must be a DNS subdomain", name)
	}
	return nil
}

// absPath checks that p is an absolute, clean path without "..".
func absPath(field, p string) error {
	if p == "" {
		return errdefs.Invalid(field, "required")
	}
	if !strings.HasPrefix(p, "/") {
		return errdefs.Invalid(field, "%q: must be an absolute path", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return errdefs.Invalid(field, "%q: must not contain '..'", p)
		}
	}
	return nil
}

func validHostPathType(field, t string) error {
	switch t {
	case "", "Directory", "DirectoryOrCreate", "File", "FileOrCreate":
		return nil
	}
	return errdefs.Invalid(field, "%q is not supported (supported: \"\", Directory, DirectoryOrCreate, File, FileOrCreate)", t)
}

func normalizePV(pv *ordov1.PersistentVolume) error {
	if err := normalizeClusterMeta(&pv.Metadata); err != nil {
		return err
	}
	if pv.Spec == nil {
		return errdefs.Invalid("spec", "required")
	}
	s := pv.Spec
	if s.Capacity == "" {
		return errdefs.Invalid("spec.capacity.storage", "required")
	}
	b, err := ParseQuantity("spec.capacity.storage", s.Capacity)
	if err != nil {
		return err
	}
	if b <= 0 {
		return errdefs.Invalid("spec.capacity.storage", "must be greater than zero")
	}
	s.CapacityBytes = b
	if err := normalizeAccessModes("spec.accessModes", s.AccessModes); err != nil {
		return err
	}
	switch s.ReclaimPolicy {
	case "":
		s.ReclaimPolicy = ReclaimRetain
	case ReclaimRetain, ReclaimDelete:
	default:
		return errdefs.Invalid("spec.persistentVolumeReclaimPolicy", "%q is not supported (supported: Retain, Delete)", s.ReclaimPolicy)
	}
	if err := normalizeClassName("spec.storageClassName", s.StorageClassName); err != nil {
		return err
	}
	if err := normalizeVolumeMode("spec.volumeMode", &s.VolumeMode); err != nil {
		return err
	}
	sources := 0
	if s.Local != nil {
		sources++
		if err := absPath("spec.local.path", s.Local.Path); err != nil {
			return err
		}
		if len(s.NodeAffinityRequired) == 0 {
			return errdefs.Invalid("spec.nodeAffinity", "required for a local volume (the node that holds spec.local.path)")
		}
	}
	if s.HostPath != nil {
		sources++
		if err := absPath("spec.hostPath.path", s.HostPath.Path); err != nil {
			return err
		}
		if err := validHostPathType("spec.hostPath.type", s.HostPath.Type); err != nil {
			return err
		}
	}
	if s.Nfs != nil {
		sources++
		if s.Nfs.Server == "" {
			return errdefs.Invalid("spec.nfs.server", "required")
		}
		if strings.ContainsAny(s.Nfs.Server, " \t,/") {
			return errdefs.Invalid("spec.nfs.server", "%q: must be a host name or an address", s.Nfs.Server)
		}
		if err := absPath("spec.nfs.path", s.Nfs.Path); err != nil {
			return err
		}
	} else if len(s.MountOptions) > 0 {
		return errdefs.Invalid("spec.mountOptions", "only supported for nfs volumes")
	}
	for i, o := range s.MountOptions {
		if o == "" || strings.ContainsAny(o, ", \t\n") {
			return errdefs.Invalid(fmt.Sprintf("spec.mountOptions[%d]", i), "%q: one option per entry, without commas or spaces", o)
		}
	}
	if sources != 1 {
		return errdefs.Invalid("spec", "must have exactly one volume source (local, hostPath or nfs), got %d", sources)
	}
	for i, t := range s.NodeAffinityRequired {
		tp := fmt.Sprintf("spec.nodeAffinity.required.nodeSelectorTerms[%d].matchExpressions", i)
		if t == nil || len(t.MatchExpressions) == 0 {
			return errdefs.Invalid(tp, "must have at least one expression")
		}
		for j, e := range t.MatchExpressions {
			if err := validateRequirement(fmt.Sprintf("%s[%d]", tp, j), e.GetKey(), e.GetOperator(), e.GetValues()); err != nil {
				return err
			}
		}
	}
	return nil
}

func normalizeClaimSpec(path string, s *ordov1.PersistentVolumeClaimSpec) error {
	if s == nil {
		return errdefs.Invalid(path, "required")
	}
	if err := normalizeAccessModes(path+".accessModes", s.AccessModes); err != nil {
		return err
	}
	if s.Storage == "" {
		return errdefs.Invalid(path+".resources.requests.storage", "required")
	}
	b, err := ParseQuantity(path+".resources.requests.storage", s.Storage)
	if err != nil {
		return err
	}
	if b <= 0 {
		return errdefs.Invalid(path+".resources.requests.storage", "must be greater than zero")
	}
	s.StorageBytes = b
	if s.StorageClassName != "" {
		s.StorageClassSet = true
	}
	if err := normalizeClassName(path+".storageClassName", s.StorageClassName); err != nil {
		return err
	}
	if s.Selector != nil {
		if err := validateSelector(path+".selector", s.Selector); err != nil {
			return err
		}
	}
	return normalizeVolumeMode(path+".volumeMode", &s.VolumeMode)
}

func normalizePVC(c *ordov1.PersistentVolumeClaim) error {
	if err := normalizeMeta(&c.Metadata); err != nil {
		return err
	}
	return normalizeClaimSpec("spec", c.Spec)
}

func normalizeSC(sc *ordov1.StorageClass) error {
	if err := normalizeClusterMeta(&sc.Metadata); err != nil {
		return err
	}
	switch sc.Provisioner {
	case "":
		return errdefs.Invalid("provisioner", "required (ordo supports %s: volumes are created by an administrator)", NoProvisioner)
	case NoProvisioner:
	default:
		return errdefs.Invalid("provisioner", "%q is not supported (supported: %s)", sc.Provisioner, NoProvisioner)
	}
	switch sc.VolumeBindingMode {
	case "":
		sc.VolumeBindingMode = BindingImmediate
	case BindingImmediate, BindingWaitForFirstConsumer:
	default:
		return errdefs.Invalid("volumeBindingMode", "%q is not supported (supported: Immediate, WaitForFirstConsumer)", sc.VolumeBindingMode)
	}
	switch sc.ReclaimPolicy {
	case "":
		sc.ReclaimPolicy = ReclaimDelete
	case ReclaimRetain, ReclaimDelete:
	default:
		return errdefs.Invalid("reclaimPolicy", "%q is not supported (supported: Retain, Delete)", sc.ReclaimPolicy)
	}
	switch v := sc.GetMetadata().GetAnnotations()[AnnotationDefaultClass]; v {
	case "true":
		sc.IsDefault = true
	case "", "false":
	default:
		if sc.IsDefault {
			break
		}
		return errdefs.Invalid("metadata.annotations["+AnnotationDefaultClass+"]", "%q: must be true or false", v)
	}
	return nil
}

// normalizeSetStorage validates the claim templates, the retention policy and
// the template's volume mounts, which may name a pod volume or a claim template.
func normalizeSetStorage(spec *ordov1.StatefulSetSpec) error {
	names := map[string]bool{}
	for i, t := range spec.VolumeClaimTemplates {
		p := fmt.Sprintf("spec.volumeClaimTemplates[%d]", i)
		if t == nil {
			return errdefs.Invalid(p, "required")
		}
		if t.Metadata == nil || t.Metadata.Name == "" {
			return errdefs.Invalid(p+".metadata.name", "required")
		}
		if msg := dns1123Label(t.Metadata.Name); msg != "" {
			return errdefs.Invalid(p+".metadata.name", "%q: %s", t.Metadata.Name, msg)
		}
		if names[t.Metadata.Name] {
			return errdefs.Invalid(p+".metadata.name", "duplicate claim template %q", t.Metadata.Name)
		}
		names[t.Metadata.Name] = true
		if err := validateLabels(p+".metadata.labels", t.Metadata.Labels); err != nil {
			return err
		}
		if err := normalizeClaimSpec(p+".spec", t.Spec); err != nil {
			return err
		}
	}
	if r := spec.PersistentVolumeClaimRetentionPolicy; r != nil {
		for _, f := range []struct {
			name string
			v    *string
		}{{"whenDeleted", &r.WhenDeleted}, {"whenScaled", &r.WhenScaled}} {
			switch *f.v {
			case "":
				*f.v = RetentionRetain
			case RetentionRetain, RetentionDelete:
			default:
				return errdefs.Invalid("spec.persistentVolumeClaimRetentionPolicy."+f.name, "%q is not supported (supported: Retain, Delete)", *f.v)
			}
		}
	}
	ps := spec.GetTemplate().GetSpec()
	for i, v := range ps.GetVolumes() {
		if names[v.GetName()] {
			return errdefs.Invalid(fmt.Sprintf("spec.template.spec.volumes[%d].name", i), "%q is also a volume claim template", v.GetName())
		}
	}
	vols := map[string]bool{}
	for _, v := range ps.GetVolumes() {
		vols[v.GetName()] = true
	}
	for i, c := range ps.GetContainers() {
		for j, m := range c.GetVolumeMounts() {
			mp := fmt.Sprintf("spec.template.spec.containers[%d].volumeMounts[%d].name", i, j)
			if !vols[m.GetName()] && !names[m.GetName()] {
				return errdefs.Invalid(mp, "%q names no volume and no volume claim template", m.GetName())
			}
		}
	}
	return nil
}

// normalizeVolumes validates a pod spec's volumes.
func normalizeVolumes(p string, ps *ordov1.PodSpec) error {
	seen := map[string]bool{}
	for i, v := range ps.Volumes {
		vp := fmt.Sprintf("%s.volumes[%d]", p, i)
		if v == nil {
			return errdefs.Invalid(vp, "required")
		}
		if v.Name == "" {
			return errdefs.Invalid(vp+".name", "required")
		}
		if msg := dns1123Label(v.Name); msg != "" {
			return errdefs.Invalid(vp+".name", "%q: %s", v.Name, msg)
		}
		if seen[v.Name] {
			return errdefs.Invalid(vp+".name", "duplicate volume name %q", v.Name)
		}
		seen[v.Name] = true
		n := 0
		if h := v.HostPath; h != nil {
			n++
			if err := absPath(vp+".hostPath.path", h.Path); err != nil {
				return err
			}
			if err := validHostPathType(vp+".hostPath.type", h.Type); err != nil {
				return err
			}
		}
		if e := v.EmptyDir; e != nil {
			n++
			if e.Medium != "" {
				return errdefs.Invalid(vp+".emptyDir.medium", "%q is not supported (only the node's disk)", e.Medium)
			}
		}
		if c := v.PersistentVolumeClaim; c != nil {
			n++
			if c.ClaimName == "" {
				return errdefs.Invalid(vp+".persistentVolumeClaim.claimName", "required")
			}
			if msg := dns1123Label(c.ClaimName); msg != "" && !dnsSubdomainRe.MatchString(c.ClaimName) {
				return errdefs.Invalid(vp+".persistentVolumeClaim.claimName", "%q: %s", c.ClaimName, msg)
			}
		}
		if n != 1 {
			return errdefs.Invalid(vp, "must have exactly one volume source (hostPath, emptyDir or persistentVolumeClaim), got %d", n)
		}
	}
	return nil
}

// normalizeMounts validates a container's volume mounts' paths.
func normalizeMounts(p string, c *ordov1.Container) error {
	dests := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := fmt.Sprintf("%s.volumeMounts[%d]", p, i)
		if m == nil {
			return errdefs.Invalid(mp, "required")
		}
		if m.Name == "" {
			return errdefs.Invalid(mp+".name", "required")
		}
		if err := absPath(mp+".mountPath", m.MountPath); err != nil {
			return err
		}
		clean := path.Clean(m.MountPath)
		if clean == "/" {
			return errdefs.Invalid(mp+".mountPath", "must not be /")
		}
		if dests[clean] {
			return errdefs.Invalid(mp+".mountPath", "%q is mounted twice", m.MountPath)
		}
		dests[clean] = true
		if s := m.SubPath; s != "" {
			if strings.HasPrefix(s, "/") {
				return errdefs.Invalid(mp+".subPath", "%q: must be a relative path", s)
			}
			for _, part := range strings.Split(s, "/") {
				if part == ".." {
					return errdefs.Invalid(mp+".subPath", "%q: must not contain '..'", s)
				}
			}
		}
	}
	return nil
}
