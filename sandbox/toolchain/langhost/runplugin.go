package main

// RunPlugin: how the engine starts a plugin written in Node.js through its
// language host. This engine runs a policy pack (`pulumi preview
// --policy-pack DIR`) this way whenever a nodejs language host is found: it
// asks for an "analyzer" plugin whose program is DIR (the directory of
// PulumiPolicy.yaml) with the engine's address among the arguments, and reads
// the port the pack serves on from the first line of its standard output.
// We start the pack as @pulumi/pulumi's own `cmd/run-policy-pack` entry point
// expects (engine address, then the pack's directory) and stream its output
// back. Other plugin kinds go through `cmd/run-plugin` the same way.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// pluginEntries: the @pulumi/pulumi entry point that runs each kind of plugin program.
var pluginEntries = map[string]string{
	"analyzer": "run-policy-pack",
	"resource": "run-plugin",
	"tool":     "run-plugin",
}

func (h *languageHost) RunPlugin(req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	pluginDir := req.GetInfo().GetProgramDirectory()
	if pluginDir == "" {
		pluginDir = req.GetProgram()
	}
	if pluginDir == "" {
		return errors.New("RunPlugin: no plugin directory given")
	}
	entryName, ok := pluginEntries[req.GetKind()]
	if !ok {
		return fmt.Errorf("RunPlugin: cannot run a %q plugin written in Node.js", req.GetKind())
	}
	entry, err := findEntry(pluginDir, entryName)
	if err != nil {
		return err
	}
	args := append([]string{entry}, pluginArgs(req.GetArgs())...)
	if req.GetKind() == "analyzer" {
		// run-policy-pack takes the pack as a program path after the engine address.
		args = append(args, pluginDir)
	}

	cmd := exec.CommandContext(server.Context(), h.node, args...)
	// The pack's own directory, so that ts-node finds its tsconfig.json and `main` resolves there.
	cmd.Dir = pluginDir
	cmd.Env = req.GetEnv()
	if len(cmd.Env) == 0 {
		cmd.Env = os.Environ()
	}
	stream := &pluginOutput{server: server}
	cmd.Stdout = stream.writer(func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	cmd.Stderr = stream.writer(func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("RunPlugin: could not start node: %w", err)
	}
	h.running.Store(cmd.Process, true)
	err = cmd.Wait()
	h.running.Delete(cmd.Process)

	code := 0
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("RunPlugin: %w", err)
		}
		code = exitErr.ExitCode()
	}
	return stream.send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// pluginArgs keeps the engine's address (and any other plain argument) and
// drops the logging and tracing flags the engine adds for binary plugins,
// which the entry points would take for program arguments.
func pluginArgs(args []string) []string {
	var kept []string
	for _, arg := range args {
		if !strings.HasPrefix(arg, "-") {
			kept = append(kept, arg)
		}
	}
	return kept
}

// findEntry looks for @pulumi/pulumi's cmd/<name> in the node_modules of the
// plugin's directory and of each parent: a pack inside a project resolves
// the project's packages, as Node.js itself would.
func findEntry(dir, name string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for start := dir; ; {
		candidate := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("@pulumi/pulumi is not installed in %s or a parent directory: run `npm ci` in the project", start)
		}
		dir = parent
	}
}

// pluginOutput sends the plugin's standard output and error to the engine as
// they come; gRPC streams take one Send at a time.
type pluginOutput struct {
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	mu     sync.Mutex
}

func (o *pluginOutput) send(response *pulumirpc.RunPluginResponse) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.server.Send(response)
}

func (o *pluginOutput) writer(wrap func([]byte) *pulumirpc.RunPluginResponse) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		// The bytes are the caller's to reuse once Write returns.
		if err := o.send(wrap(append([]byte(nil), b...))); err != nil {
			return 0, err
		}
		return len(b), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
