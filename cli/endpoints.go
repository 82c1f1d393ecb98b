package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// endpointsRow is NAME ENDPOINTS AGE; ENDPOINTS lists the Ready addresses with
// each port, like kubectl: "10.244.1.2:80,10.244.2.2:80,10.244.3.2:80 + 1 more...".
func endpointsRow(e *ordov1.Endpoints, now time.Time, _ bool) []string {
	return []string{e.GetMetadata().GetName(), formatEndpoints(e), age(now, e.GetMetadata().GetCreationTime())}
}

func formatEndpoints(e *ordov1.Endpoints) string {
	const max = 3
	var list []string
	for _, a := range e.GetAddresses() {
		if !a.GetReady() {
			continue
		}
		if len(e.GetPorts()) == 0 {
			list = append(list, a.GetIp())
		}
		for _, p := range e.GetPorts() {
			port := p.GetTargetPort()
			if port == 0 {
				port = p.GetPort()
			}
			list = append(list, a.GetIp()+":"+strconv.Itoa(int(port)))
		}
	}
	switch {
	case len(list) == 0:
		return "<none>"
	case len(list) > max:
		return strings.Join(list[:max], ",") + fmt.Sprintf(" + %d more...", len(list)-max)
	}
	return strings.Join(list, ",")
}

// getEndpoints finds the endpoints of one service. The scheduler computes
// endpoints from services and pods: they can be listed, not got by name.
func (a *app) getEndpoints(ctx context.Context, c ordov1.ControlClient, ns, name string) (item, *ordov1.GetResponse, error) {
	resp, err := c.List(ctx, &ordov1.ListRequest{Kind: kinds.Endpoints, Namespace: ns})
	if err != nil {
		return item{}, nil, a.rpcError(err)
	}
	for _, e := range resp.GetEndpoints() {
		if e.GetMetadata().GetName() == name {
			return item{kinds.Endpoints, e, e.GetMetadata()}, &ordov1.GetResponse{}, nil
		}
	}
	return item{}, nil, fmt.Errorf("endpoints %q not found: %w", name, errdefs.ErrNotFound)
}
