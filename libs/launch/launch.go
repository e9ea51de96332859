// Package launch starts xii's services as real processes and stops them
// cleanly: the local launcher (make run) and the integration tests that
// need a real survey-svc or a whole system both use it.
package launch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec describes one process.
type Spec struct {
	Name string   // log prefix, e.g. "blue"
	Path string   // the binary
	Args []string // its arguments
	Env  []string // added to the launcher's environment
	Dir  string   // working directory; "" is the launcher's
	// ReadyURL is polled until it answers 200; "" means ready at once.
	ReadyURL string
	// Log receives the process's output, each line prefixed with Name.
	Log io.Writer
}

// Process is a running child.
type Process struct {
	spec   Spec
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // set before done closes
	output sync.WaitGroup
}

// Start starts spec's process and waits until it is ready, it exits, or
// ctx is done. A process that is not ready is stopped before Start returns.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Dir = spec.Dir
	// A process group of its own, so that Ctrl-C in a terminal reaches the
	// launcher only, and stopping is the launcher's business.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Process{spec: spec, cmd: cmd, done: make(chan struct{})}
	if spec.Log == nil {
		spec.Log = io.Discard
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p.output.Go(func() { prefixLines(spec.Log, spec.Name, stdout) })
	go func() {
		p.output.Wait()
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx); err != nil {
		p.Stop(5 * time.Second)
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context) error {
	if p.spec.ReadyURL == "" {
		return nil
	}
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.spec.ReadyURL, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before it was ready: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready at %s: %w", p.spec.ReadyURL, ctx.Err())
		case <-tick.C:
		}
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error, once Done is closed.
func (p *Process) Err() error { <-p.done; return p.err }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills its whole process group. It returns the exit error of a process
// that did not exit cleanly on SIGTERM.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.exitErr()
	case <-t.C:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("stop %s: killed after %v without exiting", p.spec.Name, grace)
}

func (p *Process) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("%s exited: %w", p.spec.Name, p.err)
	}
	return nil
}

func prefixLines(w io.Writer, name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var mu sync.Mutex
	for sc.Scan() {
		mu.Lock()
		fmt.Fprintf(w, "%-10s %s\n", "["+name+"]", sc.Bytes())
		mu.Unlock()
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(w, "%-10s (output lost: %v)\n", "["+name+"]", err)
	}
}
