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
// synchronous-invoke pipes (only the deprecated `*Sync` invokes of old SDKs need them). SDKs (`pulumi package
// gen-sdk --language nodejs`) and programs (`pulumi import`) come from pkg/v3/codegen/nodejs.
//
// `pulumi package add` works as with upstream's host: Link makes the generated SDK a `file:` dependency in
// package.json, with the package manager that Pulumi's npm package picks (the runtime option `packagemanager`,
// else the lock file's, else npm), and InstallDependencies runs that package manager's install, which also
// compiles the SDK (its postinstall script). Tests that share one node_modules (a link to
// .tools/node/node_modules) must therefore never run `pulumi install` in such a program.
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
	"strings"

	"github.com/google/shlex"
	"github.com/pulumi/pulumi/pkg/v3/codegen/cgstrings"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/fsutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
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
	typescript     bool
	tsconfig       string
	nodeArgs       []string
	packageManager npm.PackageManagerType
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
	if value, ok := options["packagemanager"]; ok {
		name, isString := value.(string)
		if !isString {
			return parsed, errors.New("runtime option packagemanager must be npm, yarn, pnpm or bun")
		}
		parsed.packageManager = npm.PackageManagerType(name)
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

// InstallDependencies runs the package manager's install in the program's directory, as upstream's host does
// (without its npm/yarn workspace detection and its Node.js version installs).
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	options, err := parseOptions(req.GetInfo())
	if err != nil {
		return err
	}
	stdout, stderr := host.InstallOutput(stream)
	_, err = npm.Install(stream.Context(), options.packageManager, req.GetInfo().GetProgramDirectory(),
		false /*production*/, stdout, stderr)
	return err
}

// Link makes generated SDKs `file:` dependencies of the program's package.json (`pulumi package add`), as
// upstream's host does; the InstallDependencies that follows installs and compiles them. It answers the import
// line of each package (TypeScript or module syntax where the program uses it, else require), which the CLI
// prints as the next step.
func (h *nodeHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	options, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	programDir := req.GetInfo().GetProgramDirectory()
	manager, err := npm.ResolvePackageManager(options.packageManager, programDir)
	if err != nil {
		return nil, err
	}
	typescript := options.typescript || options.tsconfig != "" || hasTSConfig(programDir)
	moduleSyntax := typescript || isModulePackage(programDir)
	return host.Link(ctx, req, "nodejs", nodejs.Importer, func(packages []host.LinkedPackage, pulumiSDK string) (string, error) {
		if pulumiSDK != "" {
			if err := manager.Link(ctx, programDir, "@pulumi/pulumi", pulumiSDK); err != nil {
				return "", err
			}
		}
		var imports strings.Builder
		for _, linked := range packages {
			packageName := nodePackageName(linked.Package)
			if err := manager.Link(ctx, programDir, packageName, linked.Path); err != nil {
				return "", err
			}
			importName := cgstrings.Camel(linked.Package.Name)
			if moduleSyntax {
				fmt.Fprintf(&imports, "  import * as %s from \"%s\";\n", importName, packageName)
			} else {
				fmt.Fprintf(&imports, "  const %s = require(\"%s\");\n", importName, packageName)
			}
		}
		language := "JavaScript"
		if typescript {
			language = "TypeScript"
		}
		return fmt.Sprintf("You can import the SDK in your %s code with:\n\n%s", language, imports.String()), nil
	})
}

// nodePackageName is the npm package a generated SDK is: the schema's `packageName`, else
// @<namespace>/<name>, else @pulumi/<name>.
func nodePackageName(pkg *schema.Package) string {
	if info, ok := pkg.Language["nodejs"].(nodejs.NodePackageInfo); ok && info.PackageName != "" {
		return info.PackageName
	}
	if pkg.Namespace != "" {
		return "@" + pkg.Namespace + "/" + pkg.Name
	}
	return "@pulumi/" + pkg.Name
}

// isModulePackage: the nearest package.json says "type": "module" (ES module syntax in JavaScript).
func isModulePackage(programDir string) bool {
	manifest, err := npm.SearchupPackageManifest(programDir)
	if err != nil {
		return false
	}
	data, _, err := npm.ReadPackageManifest(filepath.Dir(manifest))
	if err != nil {
		return false
	}
	kind, _ := data["type"].(string)
	return kind == "module"
}

// hasTSConfig: a tsconfig.json in the program's directory or above it makes it a TypeScript program.
func hasTSConfig(programDir string) bool {
	_, err := fsutil.Searchup(programDir, "tsconfig.json")
	return err == nil
}
