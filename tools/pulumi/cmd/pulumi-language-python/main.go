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
// It also generates Python SDKs (`pulumi package gen-sdk --language python`) and Python programs (the code
// `pulumi import` prints) with pkg/v3/codegen/python, and links generated SDKs into a program (`pulumi package
// add`: a line in requirements.txt, or the dependency of poetry or uv), as upstream's host does. Not
// implemented (answered Unimplemented, which the engine tolerates): packing, templates, policy-pack plugins and
// type checkers. Shared with the Node.js and Go hosts: tools/pulumi/internal/host.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"

	"mypos-pulumi/tools/pulumi/internal/host"
)

func main() {
	executor := flag.String("use-executor", "", "path of pulumi-language-python-exec (default: next to this binary)")
	host.Serve(func(engineAddress string) (pulumirpc.LanguageRuntimeServer, error) {
		execScript, err := locateExecScript(*executor)
		if err != nil {
			return nil, err
		}
		return &pythonHost{Base: host.Base{EngineAddress: engineAddress}, execScript: execScript}, nil
	})
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
	host.Base

	execScript string
}

// GetRequiredPackages reports no packages: the only plugin a program of ours needs is the bundled
// pulumi-python dynamic provider, which the engine finds on its own. Upstream derives the list from
// installed pip packages such as pulumi-aws, which this host does not support.
func (h *pythonHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	cmd, err := tc.Command(ctx, append([]string{"-u", h.execScript}, host.RunnerArguments(req, h.EngineAddress, underscored)...)...)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := host.ConfigEnvironment(req)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	return host.RunProgram(cmd, "the Python executor"), nil
}

func (h *pythonHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	stdout, stderr := host.InstallOutput(stream)
	return tc.InstallDependencies(stream.Context(), req.GetInfo().GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true /*showOutput*/, stdout, stderr)
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	// Only the interpreter's `--version`: the toolchain's own About also runs `python -m pip --version`,
	// whose answer this response does not carry, and which costs a third of a CPU second on every
	// deployment (the engine asks About for each update's metadata).
	cmd, err := tc.Command(ctx, "--version")
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version failed: %w", cmd.Path, err)
	}
	version := strings.TrimPrefix(strings.TrimSpace(string(out)), "Python ")
	return &pulumirpc.AboutResponse{Executable: cmd.Path, Version: version}, nil
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
	opts, err := pythonOptions(info)
	if err != nil {
		return nil, err
	}
	return toolchain.ResolveToolchain(opts)
}

func pythonOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
	}
	options := host.Options(info)
	if venv, ok := options["virtualenv"].(string); ok {
		opts.Virtualenv = venv
	}
	if name, ok := options["typechecker"].(string); ok && name != "" {
		return opts, fmt.Errorf("runtime option typechecker=%q is not supported by this language host; "+
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
		return opts, fmt.Errorf("unsupported runtime option toolchain=%q: use pip, poetry or uv", name)
	}
	return opts, nil
}

func (h *pythonHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return host.GeneratePackage(req, func(pkg *schema.Package, loader schema.ReferenceLoader) (map[string][]byte, error) {
		return python.GeneratePackage("pulumi-language-python", pkg, req.GetExtraFiles(), loader)
	})
}

func (h *pythonHost) GenerateProgram(
	_ context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	return host.GenerateProgram(req, python.GenerateProgram)
}

// Link makes generated SDKs dependencies of the program (`pulumi package add`), as upstream's host does: each
// SDK's directory becomes a dependency of the program's toolchain (a line of requirements.txt for pip; poetry's
// or uv's pyproject.toml), which the engine's InstallDependencies then installs into the virtualenv. It answers
// the import line of each package, which the CLI prints as the next step.
func (h *pythonHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	return host.Link(ctx, req, "python", python.Importer, func(packages []host.LinkedPackage, pulumiSDK string) (string, error) {
		distributions := map[string]string{} // Python package name -> the SDK's directory
		if pulumiSDK != "" {
			distributions["pulumi"] = pulumiSDK
		}
		var imports strings.Builder
		for _, linked := range packages {
			packageName, importName := pythonNames(linked.Package)
			distributions[packageName] = linked.Path
			fmt.Fprintf(&imports, "  import %s as %s\n", packageName, importName)
		}
		if err := requirementsFileForNewProjects(&opts, req.GetInfo().GetProgramDirectory()); err != nil {
			return "", err
		}
		tc, err := toolchain.ResolveToolchain(opts)
		if err != nil {
			return "", err
		}
		if err := tc.LinkPackages(ctx, distributions); err != nil {
			return "", fmt.Errorf("linking packages: %w", err)
		}
		sdks := "SDK"
		if len(packages) > 1 {
			sdks = "SDKs"
		}
		return fmt.Sprintf("You can import the %s in your Python code with:\n\n%s", sdks, imports.String()), nil
	})
}

// pythonNames is the package an SDK installs and the name upstream's host imports it as: the schema's
// `packageName` for both, else pulumi_<name> imported as <name>.
func pythonNames(pkg *schema.Package) (packageName, importName string) {
	if info, ok := pkg.Language["python"].(python.PackageInfo); ok && info.PackageName != "" {
		return info.PackageName, info.PackageName
	}
	return python.PyPack(pkg.Namespace, pkg.Name), strings.ReplaceAll(pkg.Name, "-", "_")
}

// requirementsFileForNewProjects: a project on poetry or uv (or on the automatic choice) that still has its
// template's requirements.txt and no pyproject.toml has not been through `pulumi install` yet, so the SDK goes
// into requirements.txt, from which that install makes the pyproject.toml (upstream's host does the same,
// pulumi/pulumi#19763). Without either file there is nowhere to record the dependency.
func requirementsFileForNewProjects(opts *toolchain.PythonOptions, programDir string) error {
	if opts.Toolchain == toolchain.Pip {
		return nil
	}
	if _, err := os.Stat(filepath.Join(programDir, "pyproject.toml")); err == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(programDir, "requirements.txt")); err != nil {
		return fmt.Errorf("no pyproject.toml or requirements.txt found in %s", programDir)
	}
	opts.Toolchain = toolchain.Pip
	return nil
}

// underscored spells a setting as pulumi-language-python-exec's flags do (dry_run).
func underscored(name string) string { return strings.ReplaceAll(name, "-", "_") }
