package manifest_test

import (
	"fmt"

	"github.com/ordoproject/ordo/manifest"
)

func ExampleDecode() {
	_, err := manifest.Decode([]byte(`
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replica: 3
  selector:
    matchLabels: {app: nginx}
  template:
    metadata:
      labels: {app: nginx}
    spec:
      containers:
      - name: nginx
        image: nginx
        resources: {limits: {memory: 1Gi}}
`))
	fmt.Println(err)

	objs, err := manifest.Decode([]byte(`
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{port: 80, name: web}]
`))
	if err != nil {
		panic(err)
	}
	fmt.Println(manifest.Ref(objs[0]))
	// Output:
	// StatefulSet "web": spec.replica: unknown field "replica" (did you mean "replicas"?); spec.template.spec.containers[0].resources: field not supported
	// Service default nginx
}
