package agent

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

// The files of configMap, secret, downwardAPI and projected volumes, as the
// kubelet computes them. The agent writes them with volumes.AtomicWriter.

const defaultConfigVolumeMode = 0o644

// isConfigVolume tells whether the agent writes the volume's files itself.
func isConfigVolume(v *ordov1.ResolvedVolume) bool {
	return v.GetConfigMap() != nil || v.GetSecret() != nil || v.GetDownwardApi() != nil || v.GetProjected() != nil
}

// namesConfigData tells whether the volume's content comes from ConfigMaps
// or Secrets (and so changes when they do).
func namesConfigData(v *ordov1.ResolvedVolume) bool {
	if v.GetConfigMap() != nil || v.GetSecret() != nil {
		return true
	}
	for _, s := range v.GetProjected().GetSources() {
		if s.GetConfigMap() != nil || s.GetSecret() != nil {
			return true
		}
	}
	return false
}

func modeOr(m *int32, def os.FileMode) os.FileMode {
	if m == nil {
		return def
	}
	return os.FileMode(*m) & os.ModePerm
}

// configVolumePayload is the content of a config volume: relative path ->
// file. A missing ConfigMap, Secret or item key is an error unless the
// source is optional (then it adds nothing).
func configVolumePayload(v *ordov1.ResolvedVolume, info podInfo, src configSource) (map[string]volumes.FileProjection, error) {
	out := map[string]volumes.FileProjection{}
	switch {
	case v.GetConfigMap() != nil:
		cm := v.GetConfigMap()
		return out, configMapFiles(out, cm, modeOr(cm.DefaultMode, defaultConfigVolumeMode), src)
	case v.GetSecret() != nil:
		s := v.GetSecret()
		return out, secretFiles(out, s, modeOr(s.DefaultMode, defaultConfigVolumeMode), src)
	case v.GetDownwardApi() != nil:
		d := v.GetDownwardApi()
		return out, downwardAPIFiles(out, d.GetItems(), modeOr(d.DefaultMode, defaultConfigVolumeMode), info)
	case v.GetProjected() != nil:
		p := v.GetProjected()
		mode := modeOr(p.DefaultMode, defaultConfigVolumeMode)
		for _, s := range p.GetSources() {
			var err error
			switch {
			case s.GetConfigMap() != nil:
				err = configMapFiles(out, s.GetConfigMap(), mode, src)
			case s.GetSecret() != nil:
				err = secretFiles(out, s.GetSecret(), mode, src)
			case s.GetDownwardApi() != nil:
				err = downwardAPIFiles(out, s.GetDownwardApi().GetItems(), mode, info)
			}
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errdefs.Invalid("volume "+v.GetName(), "not a configMap, secret, downwardAPI or projected volume")
}

// keyFiles adds data's keys to out: every key under its own name when
// items is empty, else the items' keys under their paths.
func keyFiles(out map[string]volumes.FileProjection, data map[string][]byte, items []*ordov1.KeyToPath,
	mode os.FileMode, optional bool, missingKey string) error {
	if len(items) == 0 {
		for k, d := range data {
			out[k] = volumes.FileProjection{Data: d, Mode: mode}
		}
		return nil
	}
	for _, it := range items {
		d, ok := data[it.GetKey()]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("%s: %s: %w", missingKey, it.GetKey(), errdefs.ErrNotFound)
		}
		out[it.GetPath()] = volumes.FileProjection{Data: d, Mode: modeOr(it.Mode, mode)}
	}
	return nil
}

func configMapFiles(out map[string]volumes.FileProjection, v *ordov1.ConfigMapVolumeSource, mode os.FileMode, src configSource) error {
	cm := src.configMap(v.GetName())
	if cm == nil {
		if v.GetOptional() {
			return nil
		}
		return errdefs.NotFound("configmap", v.GetName())
	}
	data := make(map[string][]byte, len(cm.GetData())+len(cm.GetBinaryData()))
	for k, s := range cm.GetData() {
		data[k] = []byte(s)
	}
	for k, b := range cm.GetBinaryData() {
		data[k] = b
	}
	return keyFiles(out, data, v.GetItems(), mode, v.GetOptional(), "configmap references non-existent config key")
}

func secretFiles(out map[string]volumes.FileProjection, v *ordov1.SecretVolumeSource, mode os.FileMode, src configSource) error {
	s := src.secret(v.GetSecretName())
	if s == nil {
		if v.GetOptional() {
			return nil
		}
		return errdefs.NotFound("secret", v.GetSecretName())
	}
	return keyFiles(out, s.GetData(), v.GetItems(), mode, v.GetOptional(), "references non-existent secret key")
}

func downwardAPIFiles(out map[string]volumes.FileProjection, items []*ordov1.DownwardAPIVolumeFile, mode os.FileMode, info podInfo) error {
	for _, it := range items {
		var (
			val string
			err error
		)
		switch {
		case it.GetFieldRef() != nil:
			val, err = info.fieldValue(it.GetFieldRef().GetFieldPath())
		case it.GetResourceFieldRef() != nil:
			val, err = info.resourceValue(it.GetResourceFieldRef(), nil)
		default:
			err = errdefs.Invalid("downwardAPI item "+it.GetPath(), "has neither fieldRef nor resourceFieldRef")
		}
		if err != nil {
			return fmt.Errorf("downwardAPI item %s: %w", it.GetPath(), err)
		}
		out[filepath.Clean(it.GetPath())] = volumes.FileProjection{Data: []byte(val), Mode: modeOr(it.Mode, mode)}
	}
	return nil
}
