// Command pulumi-language-nodejs is a minimal Pulumi language host for JavaScript and TypeScript programs.
//
// Why it exists: upstream's host is its own Go module,
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, and the module proxy reachable from
// our machines refuses every version of it (see README, "Building the Pulumi CLI"). Users of the provider
// run upstream's host, which ships with the Pulumi CLI; this one serves the project's tests, which must run
// TypeScript programs and generate Node.js SDKs through the real engine.
//
// It runs a program the way upstream does, with the runner that ships in the program's own
// @pulumi/pulumi (node_modules/@pulumi/pulumi/cmd/run), which connects to the engine itself; TypeScript
// goes through the ts-node installed beside it. It honours the runtime options `typescript` (default true),
// `tsconfig` and `nodeargs`. Unlike upstream it neither proxies the resource monitor nor serves the
// synchronous-invoke pipes (only the deprecated `*Sync` invokes of old SDKs need them), and it installs no
// dependencies: `pulumi install` succeeds without touching node_modules. SDKs (`pulumi package gen-sdk
// --language nodejs`) and programs (`pulumi import`) come from pkg/v3/codegen/nodejs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/shlex"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mypos-pulumi/tools/pulumi/internal/host"
)

// runner is the program runner inside the Node.js SDK, relative to a node_modules directory.
const runner = "@pulumi/pulumi/cmd/run"

func main() {
	host.ServeRuntime(func(base host.Base) pulumirpc.LanguageRuntimeServer { return &nodeHost{Base: base} })
}

type nodeHost struct {
	host.Base
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "node is not on PATH: install Node.js 20 or newer"}, nil
	}
	options, err := parseOptions(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runnerPath, err := locateRunner(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := host.ConfigEnvironment(req)
	if err != nil {
		return nil, err
	}

	args := append(options.nodeArgs, runnerPath)
	cmd := exec.CommandContext(ctx, node, append(args, host.RunnerArguments(req, h.EngineAddress, asIs)...)...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(append(os.Environ(), env...), options.environment()...)
	// Node.js may switch the descriptors it is handed to non-blocking mode, which breaks this process's
	// own writes to them; wrapping them makes exec copy the output through pipes instead.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	return host.RunProgram(cmd, "node"), nil
}

// locateRunner finds the Node.js SDK's runner as Node's module resolution would from the program's
// directory: in node_modules there or in any parent directory.
func locateRunner(programDir string) (string, error) {
	for dir := programDir; ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, "node_modules", filepath.FromSlash(runner))
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("cannot find %s in node_modules of %s or of a parent directory: install "+
		"@pulumi/pulumi there (the project's tests link .tools/node/node_modules, see scripts/install-node-sdk)",
		runner, programDir)
}

// asIs: the runner's flags are the settings' own names.
func asIs(name string) string { return name }

type nodeOptions struct {
	typescript bool
	tsconfig   string
	nodeArgs   []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (nodeOptions, error) {
	options := host.Options(info)
	parsed := nodeOptions{typescript: true}
	if value, ok := options["typescript"]; ok {
		typescript, isBool := value.(bool)
		if !isBool {
			return parsed, errors.New("runtime option typescript must be true or false")
		}
		parsed.typescript = typescript
	}
	if value, ok := options["tsconfig"]; ok {
		tsconfig, isString := value.(string)
		if !isString {
			return parsed, errors.New("runtime option tsconfig must be a path")
		}
		parsed.tsconfig = tsconfig
	}
	if value, ok := options["nodeargs"]; ok {
		text, isString := value.(string)
		if !isString {
			return parsed, errors.New("runtime option nodeargs must be a string")
		}
		args, err := shlex.Split(text)
		if err != nil {
			return parsed, fmt.Errorf("runtime option nodeargs: %w", err)
		}
		parsed.nodeArgs = args
	}
	return parsed, nil
}

// environment is how the runner learns the options.
func (o nodeOptions) environment() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// GetRequiredPackages reports the provider plugins of the generated SDKs the program depends on: every
// package.json under the program's node_modules (followed through links, as the tests' shared one is)
// whose "pulumi" section declares a resource plugin, as upstream's host does.
func (h *nodeHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := resourcePackagesUnder(filepath.Join(req.GetInfo().GetProgramDirectory(), "node_modules"))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func resourcePackagesUnder(modules string) ([]*pulumirpc.PackageDependency, error) {
	scan := packageScan{visited: map[string]bool{}}
	if err := scan.walk(modules); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return scan.found, nil
}

// packageScan walks a node_modules tree and the directories its links point to (npm links `file:`
// dependencies, such as a generated SDK, instead of copying them), each directory once.
type packageScan struct {
	visited map[string]bool
	found   []*pulumirpc.PackageDependency
}

func (s *packageScan) walk(dir string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil || s.visited[root] {
		return err
	}
	s.visited[root] = true
	return filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case entry.Type()&fs.ModeSymlink != 0:
			if target, statErr := os.Stat(path); statErr == nil && target.IsDir() {
				return s.walk(path)
			}
		case entry.Name() == "package.json":
			if dependency := resourcePackageOf(path); dependency != nil {
				s.found = append(s.found, dependency)
			}
		}
		return nil
	})
}

// resourcePackageOf reads one package.json; files that are not a package's manifest (test fixtures inside
// packages, say) simply declare nothing.
func resourcePackageOf(packageJSON string) *pulumirpc.PackageDependency {
	data, err := os.ReadFile(packageJSON)
	if err != nil {
		return nil
	}
	var manifest struct {
		Version string                  `json:"version"`
		Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
	}
	if json.Unmarshal(data, &manifest) != nil {
		return nil
	}
	return host.ResourcePackage(manifest.Pulumi, manifest.Version)
}

func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return host.AboutExecutable(ctx, "node", "--version")
}

func (h *nodeHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return host.GeneratePackage(req, func(pkg *schema.Package, loader schema.ReferenceLoader) (map[string][]byte, error) {
		return nodejs.GeneratePackage("pulumi-language-nodejs", pkg, req.GetExtraFiles(),
			req.GetLocalDependencies(), req.GetLocal(), loader)
	})
}

func (h *nodeHost) GenerateProgram(
	_ context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	return host.GenerateProgram(req, nodejs.GenerateProgram)
}
