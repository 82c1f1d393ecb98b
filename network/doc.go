// Package network gives pods their network: one network namespace per pod,
// created by the agent and kept as a bind-mounted file so that containerd, runc
// and the agent's probes can enter it. Dialling from inside a pod's namespace
// lets probes reach ports the pod listens on without any route from the node.
package network
