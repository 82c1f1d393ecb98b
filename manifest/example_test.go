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
        stdin: true
`))
	fmt.Println(err)

	res, err := manifest.Decode([]byte(`
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
	fmt.Println(manifest.Ref(res.Objects[0]))
	// Output:
	// StatefulSet default/web: spec.replica: unknown field "replica" (did you mean "replicas"?)
	// StatefulSet default/web: spec.template.spec.containers[0].stdin: field not supported
	// Service default nginx
}
