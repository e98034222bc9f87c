// Command pulumi-language-python is a minimal Pulumi language host for Python programs.
//
// Why it exists: upstream's host lives in its own Go module,
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which has no version tags, so it can
// only be required by a pseudo-version (commit hash). The Go module proxy reachable from our machines refuses
// every version of that module, including hash queries (see README, "Building the Pulumi CLI"). This host
// reimplements only what `pulumi up/preview/refresh/destroy` need, on top of packages that do ship in
// sdk/v3 at the pinned release: the toolchain package resolves the virtualenv from Pulumi.yaml exactly as
// upstream does, and the program itself is started by upstream's own `pulumi-language-python-exec` script.
//
// Not implemented (answered Unimplemented, which the engine tolerates): code generation, packing, linking,
// templates, policy-pack plugins and type checkers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// exitCodeUserActionableError is what the exec script returns after it has already shown the user an error;
// the engine must then bail out without printing a second, less useful message.
const exitCodeUserActionableError = 32

func main() {
	// The engine passes logging and tracing flags to every plugin. Some are already registered by
	// dependencies (glog registers -v and -logtostderr), so define only the missing ones.
	defineFlagIfMissing("logtostderr", "false", "log to stderr")
	defineFlagIfMissing("v", "0", "log verbosity")
	defineFlagIfMissing("logflow", "false", "flow log settings to child processes")
	defineFlagIfMissing("tracing", "", "tracing endpoint (accepted, unused)")
	executor := flag.String("use-executor", "", "path of pulumi-language-python-exec (default: next to this binary)")
	flag.Parse()
	verbose, _ := strconv.Atoi(flagValue("v"))
	logging.InitLogging(flagValue("logtostderr") == "true", verbose, flagValue("logflow") == "true")

	execScript, err := locateExecScript(*executor)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	host := &pythonHost{execScript: execScript}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
		// Exit when the engine is gone (e.g. the CLI was killed), as upstream's plugins do, instead of
		// lingering as an orphan.
		ctx, engineGone := context.WithCancel(context.Background())
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, 30*time.Second, engineGone); err == nil {
			go func() {
				<-ctx.Done()
				os.Exit(0)
			}()
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start the language host: %v\n", err)
		os.Exit(1)
	}
	// The engine stops plugins with SIGINT and waits a few seconds before killing them. A host started
	// with SIGINT ignored (e.g. from a background job or nohup) would make every run wait that long, so
	// handle the signal explicitly: Notify un-ignores it.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		os.Exit(0)
	}()

	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host stopped: %v\n", err)
		os.Exit(1)
	}
}

// textFlag is a flag.Value that accepts any text, so boolean-looking flags defined here parse like glog's.
type textFlag struct{ value string }

func (f *textFlag) String() string     { return f.value }
func (f *textFlag) Set(v string) error { f.value = v; return nil }
func (f *textFlag) IsBoolFlag() bool   { return f.value == "false" || f.value == "true" }

func defineFlagIfMissing(name, defaultValue, usage string) {
	if flag.Lookup(name) == nil {
		flag.Var(&textFlag{value: defaultValue}, name, usage)
	}
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// locateExecScript finds pulumi-language-python-exec beside this binary, as upstream's host does.
func locateExecScript(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot locate the language host binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	script := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("missing executor: %s must sit next to pulumi-language-python", script)
	}
	return script, nil
}

type pythonHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	execScript    string
	engineAddress string
}

func (h *pythonHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *pythonHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPackages reports no packages: the only plugin a program of ours needs is the bundled
// pulumi-python dynamic provider, which the engine finds on its own. Upstream derives the list from
// installed pip packages such as pulumi-aws, which this host does not support.
func (h *pythonHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

//nolint:staticcheck // still called by engines that predate GetRequiredPackages.
func (h *pythonHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *pythonHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	cmd, err := tc.Command(ctx, append([]string{"-u", h.execScript}, h.execArguments(req)...)...)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := configEnvironment(req)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeUserActionableError {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python executor: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// execArguments builds the command line that pulumi-language-python-exec parses.
func (h *pythonHost) execArguments(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	add("root_directory", req.GetInfo().GetRootDirectory())

	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = "."
	}
	args = append(args, program)
	return append(args, req.GetArgs()...)
}

// configEnvironment passes stack config to the program the way the Python SDK reads it.
func configEnvironment(req *pulumirpc.RunRequest) ([]string, error) {
	var env []string
	if cfg := req.GetConfig(); cfg != nil {
		encoded, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("serialising config: %w", err)
		}
		env = append(env, "PULUMI_CONFIG="+string(encoded))
	}
	if keys := req.GetConfigSecretKeys(); keys != nil {
		encoded, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("serialising secret config keys: %w", err)
		}
		env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(encoded))
	}
	return env, nil
}

func (h *pythonHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	stdout := streamWriter(func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	})
	stderr := streamWriter(func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	})
	return tc.InstallDependencies(stream.Context(), req.GetInfo().GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true /*showOutput*/, stdout, stderr)
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: info.PythonExecutable, Version: info.PythonVersion.String()}, nil
}

func (h *pythonHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	packages, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, pkg := range packages {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: pkg.Name, Version: pkg.Version})
	}
	return resp, nil
}

// resolveToolchain maps Pulumi.yaml's runtime options onto the SDK's toolchain package.
func resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
	}
	options := optionMap(info.GetOptions())
	if venv, ok := options["virtualenv"].(string); ok {
		opts.Virtualenv = venv
	}
	if name, ok := options["typechecker"].(string); ok && name != "" {
		return nil, fmt.Errorf("runtime option typechecker=%q is not supported by this language host; "+
			"run the type checker yourself before `pulumi up`", name)
	}
	switch name, _ := options["toolchain"].(string); name {
	case "":
		opts.Toolchain = toolchain.Auto
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return nil, fmt.Errorf("unsupported runtime option toolchain=%q: use pip, poetry or uv", name)
	}
	return toolchain.ResolveToolchain(opts)
}

func optionMap(options *structpb.Struct) map[string]any {
	if options == nil {
		return map[string]any{}
	}
	return options.AsMap()
}

// streamWriter adapts a gRPC stream's Send to an io.Writer.
type streamWriter func([]byte) error

func (w streamWriter) Write(p []byte) (int, error) {
	chunk := append([]byte(nil), p...)
	if err := w(chunk); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = streamWriter(nil)
