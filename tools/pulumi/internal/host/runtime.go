package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitCodeUserActionableError is what every Pulumi SDK's program runner returns after it has already shown
// the user an error; the engine must then bail out without printing a second, less useful message.
const exitCodeUserActionableError = 32

// Base answers the RPCs whose answer is the same for every language; a host embeds it. Requests it does
// not answer (packing, templates, policy packs) stay Unimplemented, which the engine tolerates.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	// EngineAddress is the engine's address, from the command line or the handshake.
	EngineAddress string
}

func (b *Base) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.EngineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

//nolint:staticcheck // still called by engines that predate GetRequiredPackages.
func (b *Base) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (b *Base) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// InstallDependencies succeeds without doing anything: Go's build fetches what a program lacks. The Python
// and Node.js hosts override it (pip, npm).
func (b *Base) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	return nil
}

// ConfigEnvironment hands stack config to a program the way every Pulumi SDK reads it: JSON objects in
// PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS.
func ConfigEnvironment(req *pulumirpc.RunRequest) ([]string, error) {
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

// RunProgram runs a program to its end and turns how it ended into the engine's answer.
func RunProgram(cmd *exec.Cmd, what string) *pulumirpc.RunResponse {
	err := cmd.Run()
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", what, err)}
	}
	if exitErr.ExitCode() == exitCodeUserActionableError {
		return &pulumirpc.RunResponse{Bail: true}
	}
	return &pulumirpc.RunResponse{
		Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
	}
}

// AboutExecutable answers About with the program's runtime (node, go): its path and what it says of its
// version.
func AboutExecutable(ctx context.Context, name string, versionArgs ...string) (*pulumirpc.AboutResponse, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%s is not on PATH: %w", name, err)
	}
	out, err := exec.CommandContext(ctx, path, versionArgs...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, strings.Join(versionArgs, " "), err)
	}
	return &pulumirpc.AboutResponse{Executable: path, Version: strings.TrimSpace(string(out))}, nil
}

// Options is Pulumi.yaml's `runtime.options` of a program.
func Options(info *pulumirpc.ProgramInfo) map[string]any {
	return info.GetOptions().AsMap() // AsMap of a nil Struct is an empty map
}

// StreamWriter adapts a gRPC stream's Send to an io.Writer.
type StreamWriter func([]byte) error

func (w StreamWriter) Write(p []byte) (int, error) {
	chunk := append([]byte(nil), p...)
	if err := w(chunk); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = StreamWriter(nil)

// InstallOutput is where an InstallDependencies answer writes: the stream's stdout and stderr messages.
func InstallOutput(stream pulumirpc.LanguageRuntime_InstallDependenciesServer) (stdout, stderr io.Writer) {
	stdout = StreamWriter(func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	})
	stderr = StreamWriter(func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	})
	return stdout, stderr
}

// Setting is one thing the engine tells a program about its run.
type Setting struct{ Name, Value string }

// RunSettings is what every Pulumi SDK's runner is told about a run, under the names of the Node.js runner's
// flags (other runners spell them their own way); empty ones are left out.
func RunSettings(req *pulumirpc.RunRequest, engineAddress string) []Setting {
	all := []Setting{
		{"monitor", req.GetMonitorAddress()},
		{"engine", engineAddress},
		{"project", req.GetProject()},
		{"stack", req.GetStack()},
		{"pwd", req.GetPwd()},
		{"dry-run", strconv.FormatBool(req.GetDryRun())},
		{"parallel", strconv.Itoa(int(req.GetParallel()))},
		{"organization", req.GetOrganization()},
		{"root-directory", req.GetInfo().GetRootDirectory()},
	}
	var given []Setting
	for _, s := range all {
		if s.Value != "" {
			given = append(given, s)
		}
	}
	return given
}

// RunnerArguments is the command line of the Python and Node.js SDKs' runners: `--NAME VALUE` for each
// setting, its name spelt by spell, then the program's entry point and arguments.
func RunnerArguments(req *pulumirpc.RunRequest, engineAddress string, spell func(string) string) []string {
	var args []string
	for _, s := range RunSettings(req, engineAddress) {
		args = append(args, "--"+spell(s.Name), s.Value)
	}
	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = "."
	}
	args = append(args, program)
	return append(args, req.GetArgs()...)
}
