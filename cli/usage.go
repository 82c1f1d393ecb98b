package cli

const usage = `ordo runs StatefulSet-style workloads on a handful of Linux machines.

Usage:
  ordo COMMAND [ARGS] [FLAGS]

Commands:
  apply -f FILE                 create or update the objects in FILE (YAML or JSON)
  get KIND [NAME...]            list statefulsets (sts), pods (po), nodes (no), services (svc)
  describe KIND NAME            show an object in detail, with its recent events
  scale sts/NAME --replicas=N   change the number of replicas of a StatefulSet
  delete -f FILE | KIND NAME    delete objects
  rollout status|history|undo|restart sts/NAME
                                follow, list, undo or restart a StatefulSet's rollout
  set image sts/NAME C=IMAGE    change the image of a StatefulSet's container
  version                       print the client version
  help [COMMAND]                show help

Global flags:
  -s, --server ADDR      scheduler address: unix:///path/ordo.sock or host:port
                         (default $ORDO_ADDR, else unix:///run/ordo/ordo.sock)
  -n, --namespace NS     namespace of named objects (default "default")
  -h, --help             show help

Run 'ordo help COMMAND' for the flags of a command.
`

var commandHelp = map[string]string{
	"apply": `Create or update objects from Kubernetes manifests (apps/v1 StatefulSet, v1 Service).

Usage:
  ordo apply -f FILE [-f FILE...] [--dry-run]

Every file is checked before anything is sent: a mistake in any of them changes
nothing. Fields ordo does not implement are rejected by name.

Flags:
  -f, --filename FILE   a manifest file, a directory (its *.yaml, *.yml, *.json) or - for stdin
      --dry-run         validate on the scheduler and report what would change, store nothing

Examples:
  ordo apply -f examples/web.yaml
  cat web.yaml | ordo apply -f -
`,
	"get": `List objects as a table, or print them as JSON or YAML.

Usage:
  ordo get statefulsets|sts|pods|po|nodes|no|services|svc [NAME...] [flags]

Flags:
  -l, --selector k=v[,k2=v2]   only objects with these labels
  -o, --output FORMAT          json, yaml, wide or name
  -w, --watch                  after the list, print a line for every change until interrupted
  -n, --namespace NS           namespace (default "default")
  -A, --all-namespaces         list objects of every namespace

Examples:
  ordo get pods -w
  ordo get sts web
  ordo get pods -l app=nginx -o json
`,
	"describe": `Show one object in detail: its spec, status, pods and recent events.

Usage:
  ordo describe sts|pod|node|svc NAME
`,
	"scale": `Set the number of replicas of a StatefulSet.

Usage:
  ordo scale sts/NAME --replicas=N
  ordo scale statefulset NAME --replicas N
`,
	"delete": `Delete objects. Deleting a StatefulSet stops its pods first; deleting a pod
makes its StatefulSet recreate it. Deleting a node removes it from the cluster
(refused while pods are bound to it); its agent takes down its pod network and
exits.

Usage:
  ordo delete -f FILE
  ordo delete sts|pod|svc NAME [NAME...]
  ordo delete node NAME
  ordo delete sts/NAME
`,
	"version": `Print the version of the ordo command.

Usage:
  ordo version
`,
}
