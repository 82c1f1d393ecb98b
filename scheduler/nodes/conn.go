package nodes

import "sync"

// nodeConn is one Connect stream.
type nodeConn struct {
	node string
	kick chan struct{}
	done chan struct{}
	once sync.Once

	leave       chan struct{} // closed when the node was removed
	leaveOnce   sync.Once
	leaveReason string // set before leave is closed
}

func newConn(node string) *nodeConn {
	return &nodeConn{node: node, kick: make(chan struct{}, 1), done: make(chan struct{}), leave: make(chan struct{})}
}

// replace ends the stream: a newer one took its place, or the scheduler stops.
func (c *nodeConn) replace() { c.once.Do(func() { close(c.done) }) }

// poke wakes the stream's sender.
func (c *nodeConn) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// remove makes the stream's sender send NodeRemoved and end the stream.
func (c *nodeConn) remove(reason string) {
	c.leaveOnce.Do(func() {
		c.leaveReason = reason
		close(c.leave)
	})
}
