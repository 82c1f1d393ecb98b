package manifest

// Kubernetes JSON shapes of the storage objects and pod volumes ordo accepts.

type persistentVolume struct {
	typeMeta
	Metadata objectMeta           `json:"metadata"`
	Spec     persistentVolumeSpec `json:"spec"`
	Status   ignored              `json:"status"`
}

type persistentVolumeSpec struct {
	Capacity                      map[string]string `json:"capacity"`
	AccessModes                   []string          `json:"accessModes"`
	PersistentVolumeReclaimPolicy string            `json:"persistentVolumeReclaimPolicy"`
	StorageClassName              string            `json:"storageClassName"`
	MountOptions                  []string          `json:"mountOptions"`
	VolumeMode                    string            `json:"volumeMode"`
	Local                         *localVolume      `json:"local"`
	HostPath                      *hostPathVolume   `json:"hostPath"`
	NFS                           *nfsVolume        `json:"nfs"`
	NodeAffinity                  *volumeAffinity   `json:"nodeAffinity"`
	ClaimRef                      ignored           `json:"claimRef"`

	CSI                       unsupported `json:"csi"`
	ISCSI                     unsupported `json:"iscsi"`
	RBD                       unsupported `json:"rbd"`
	CephFS                    unsupported `json:"cephfs"`
	FC                        unsupported `json:"fc"`
	Glusterfs                 unsupported `json:"glusterfs"`
	AWSElasticBlockStore      unsupported `json:"awsElasticBlockStore"`
	GCEPersistentDisk         unsupported `json:"gcePersistentDisk"`
	AzureDisk                 unsupported `json:"azureDisk"`
	AzureFile                 unsupported `json:"azureFile"`
	Cinder                    unsupported `json:"cinder"`
	FlexVolume                unsupported `json:"flexVolume"`
	Flocker                   unsupported `json:"flocker"`
	VsphereVolume             unsupported `json:"vsphereVolume"`
	Quobyte                   unsupported `json:"quobyte"`
	PhotonPersistentDisk      unsupported `json:"photonPersistentDisk"`
	PortworxVolume            unsupported `json:"portworxVolume"`
	ScaleIO                   unsupported `json:"scaleIO"`
	StorageOS                 unsupported `json:"storageos"`
	VolumeAttributesClassName unsupported `json:"volumeAttributesClassName"`
}

type localVolume struct {
	Path string `json:"path"`

	FSType unsupported `json:"fsType"`
}

type hostPathVolume struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

type nfsVolume struct {
	Server   string `json:"server"`
	Path     string `json:"path"`
	ReadOnly bool   `json:"readOnly"`
}

type volumeAffinity struct {
	Required *nodeSelector `json:"required"`
}

type persistentVolumeClaim struct {
	typeMeta
	Metadata objectMeta                `json:"metadata"`
	Spec     persistentVolumeClaimSpec `json:"spec"`
	Status   ignored                   `json:"status"`
}

type persistentVolumeClaimSpec struct {
	AccessModes      []string       `json:"accessModes"`
	Resources        claimResources `json:"resources"`
	StorageClassName *string        `json:"storageClassName"`
	Selector         *labelSelector `json:"selector"`
	VolumeName       string         `json:"volumeName"`
	VolumeMode       string         `json:"volumeMode"`

	DataSource                unsupported `json:"dataSource"`
	DataSourceRef             unsupported `json:"dataSourceRef"`
	VolumeAttributesClassName unsupported `json:"volumeAttributesClassName"`
}

type claimResources struct {
	Requests map[string]string `json:"requests"`

	Limits unsupported `json:"limits"`
}

// claimTemplate is an entry of spec.volumeClaimTemplates.
type claimTemplate struct {
	APIVersion ignored                   `json:"apiVersion"`
	Kind       ignored                   `json:"kind"`
	Metadata   objectMeta                `json:"metadata"`
	Spec       persistentVolumeClaimSpec `json:"spec"`
	Status     ignored                   `json:"status"`
}

type retentionPolicy struct {
	WhenDeleted string `json:"whenDeleted"`
	WhenScaled  string `json:"whenScaled"`
}

type storageClass struct {
	typeMeta
	Metadata          objectMeta `json:"metadata"`
	Provisioner       string     `json:"provisioner"`
	VolumeBindingMode string     `json:"volumeBindingMode"`
	ReclaimPolicy     string     `json:"reclaimPolicy"`
	MountOptions      []string   `json:"mountOptions"`

	Parameters           unsupported `json:"parameters"`
	AllowVolumeExpansion unsupported `json:"allowVolumeExpansion"`
	AllowedTopologies    unsupported `json:"allowedTopologies"`
}

// podVolume is an entry of a pod template's spec.volumes.
type podVolume struct {
	Name                  string             `json:"name"`
	HostPath              *hostPathVolume    `json:"hostPath"`
	EmptyDir              *emptyDirVolume    `json:"emptyDir"`
	PersistentVolumeClaim *claimVolumeSource `json:"persistentVolumeClaim"`

	NFS                  unsupported `json:"nfs"`
	ConfigMap            unsupported `json:"configMap"`
	Secret               unsupported `json:"secret"`
	Projected            unsupported `json:"projected"`
	DownwardAPI          unsupported `json:"downwardAPI"`
	CSI                  unsupported `json:"csi"`
	Ephemeral            unsupported `json:"ephemeral"`
	Image                unsupported `json:"image"`
	ISCSI                unsupported `json:"iscsi"`
	RBD                  unsupported `json:"rbd"`
	CephFS               unsupported `json:"cephfs"`
	FC                   unsupported `json:"fc"`
	Glusterfs            unsupported `json:"glusterfs"`
	GitRepo              unsupported `json:"gitRepo"`
	AWSElasticBlockStore unsupported `json:"awsElasticBlockStore"`
	GCEPersistentDisk    unsupported `json:"gcePersistentDisk"`
	AzureDisk            unsupported `json:"azureDisk"`
	AzureFile            unsupported `json:"azureFile"`
	Cinder               unsupported `json:"cinder"`
	FlexVolume           unsupported `json:"flexVolume"`
	Flocker              unsupported `json:"flocker"`
	VsphereVolume        unsupported `json:"vsphereVolume"`
	Quobyte              unsupported `json:"quobyte"`
	PhotonPersistentDisk unsupported `json:"photonPersistentDisk"`
	PortworxVolume       unsupported `json:"portworxVolume"`
	ScaleIO              unsupported `json:"scaleIO"`
	StorageOS            unsupported `json:"storageos"`
}

type emptyDirVolume struct {
	Medium string `json:"medium"`

	SizeLimit unsupported `json:"sizeLimit"`
}

type claimVolumeSource struct {
	ClaimName string `json:"claimName"`
	ReadOnly  bool   `json:"readOnly"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	SubPath   string `json:"subPath"`
	ReadOnly  bool   `json:"readOnly"`

	SubPathExpr       unsupported `json:"subPathExpr"`
	MountPropagation  unsupported `json:"mountPropagation"`
	RecursiveReadOnly unsupported `json:"recursiveReadOnly"`
}
