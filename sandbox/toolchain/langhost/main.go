// Command pulumi-language-nodejs is qmail-fleet's own small Node.js language
// host for the Pulumi engine.
//
// The engine starts a language host to run a program. Pulumi's own Node.js
// host is not published where this project's builds can reach it, so this one
// does the part a TypeScript program needs and nothing more: it serves the
// LanguageRuntime gRPC API and, on Run, starts the program through the
// `cmd/run` entry point of the program's own @pulumi/pulumi package, passing
// the engine's settings as that entry point expects them. Program plugins are
// not installed by the host: providers this project uses are found on PATH.
//
// The stack's configuration reaches the program through a private file and a
// preload script, not the environment of execve: see programfiles.go.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

// bailExitCode is what @pulumi/pulumi's run entry point exits with when the
// program failed and the error has already been reported to the engine.
const bailExitCode = 32

func main() {
	// The engine passes its own address as the last argument, after any flags
	// (logging, tracing) that this host does not use.
	var engineAddress string
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			engineAddress = arg
		}
	}

	nodePath, err := exec.LookPath("node")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-language-nodejs: node is not on PATH")
		os.Exit(1)
	}

	host := &languageHost{node: nodePath, engineAddress: engineAddress}

	// The engine stops its plugins with SIGINT (SIGKILL after a grace period):
	// a program still running then leaves its configuration behind unless
	// removed here.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		host.programs.removeAll()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()

	// If the engine dies without stopping us (kill -9), nothing else would:
	// end the programs we started, and ourselves, once our parent is gone.
	go func(parent int) {
		for range time.Tick(500 * time.Millisecond) {
			if os.Getppid() != parent {
				host.stopPrograms()
				host.programs.removeAll()
				os.Exit(1)
			}
		}
	}(os.Getppid())

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: cannot serve: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	node          string
	engineAddress string
	programs      liveProgramFiles
	running       sync.Map // *os.Process of each program running now
}

// stopPrograms kills every program this host started that is still running.
func (h *languageHost) stopPrograms() {
	h.running.Range(func(key, _ any) bool {
		_ = key.(*os.Process).Kill()
		return true
	})
}

func (h *languageHost) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// The program's plugins are not resolved here: the engine loads the providers
// it meets (the Node.js dynamic provider among them) from PATH.
func (h *languageHost) GetRequiredPlugins(context.Context,
	*pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(context.Context,
	*pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) GetProgramDependencies(context.Context,
	*pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	out, err := exec.CommandContext(ctx, h.node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: h.node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := req.GetPwd()
	rootDir := programDir
	entryPoint := "."
	var options map[string]any
	if info != nil {
		if info.GetProgramDirectory() != "" {
			programDir = info.GetProgramDirectory()
		}
		if info.GetRootDirectory() != "" {
			rootDir = info.GetRootDirectory()
		}
		if info.GetEntryPoint() != "" {
			entryPoint = info.GetEntryPoint()
		}
		options = info.GetOptions().AsMap()
	}

	runEntry, err := findRunEntry(programDir, rootDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	env, variables, err := programEnvironment(req, options)
	if err != nil {
		return nil, err
	}
	files, err := h.programs.create(variables)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	defer h.programs.release(files)
	env = append(env, envFileVariable+"="+files.envFile)

	// The preload comes first, so that it has set the configuration before
	// any preload of Pulumi.yaml's nodeargs runs.
	args := append([]string{"--require", files.preload}, nodeArgs(options)...)
	args = append(args, runEntry)
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", rootDir)
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flag("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	args = append(args, entryPoint)
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, h.node, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	if err == nil {
		h.running.Store(cmd.Process, true)
		err = cmd.Wait()
		h.running.Delete(cmd.Process)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// findRunEntry looks for @pulumi/pulumi's run entry point in the
// node_modules of the program directory and of each parent up to the root.
func findRunEntry(programDir, rootDir string) (string, error) {
	dir := programDir
	for {
		candidate := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", "run")
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if dir == rootDir || parent == dir {
			return "", fmt.Errorf("@pulumi/pulumi is not installed under %s: run `npm ci` there", programDir)
		}
		dir = parent
	}
}

// nodeArgs returns the runtime option `nodeargs` (Pulumi.yaml) split into arguments.
func nodeArgs(options map[string]any) []string {
	if s, ok := options["nodeargs"].(string); ok {
		return strings.Fields(s)
	}
	return nil
}

// programEnvironment returns the program's environment, with the runtime
// options the way @pulumi/pulumi reads them, and apart from it the variables
// that carry the stack's configuration, too large for the environment.
func programEnvironment(req *pulumirpc.RunRequest, options map[string]any) ([]string, map[string]string, error) {
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, nil, err
	}
	variables := map[string]string{
		"PULUMI_CONFIG":             string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS": string(secretKeysJSON),
	}

	// Whatever the host's own environment holds under these names is not the
	// program's to see.
	var env []string
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if _, carried := variables[name]; !carried && name != envFileVariable {
			env = append(env, entry)
		}
	}
	typescript := true
	if v, ok := options["typescript"].(bool); ok {
		typescript = v
	}
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	if v, ok := options["tsconfig"].(string); ok && v != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v)
	}
	return env, variables, nil
}
