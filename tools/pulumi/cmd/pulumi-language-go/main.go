// Command pulumi-language-go is a minimal Pulumi language host for Go programs.
//
// Why it exists: upstream's host is its own Go module, github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3,
// and the module proxy reachable from our machines refuses every version of it (see README, "Building the
// Pulumi CLI"). Users of the provider run upstream's host, which ships with the Pulumi CLI; this one serves
// the project's tests, which must run Go programs and generate Go SDKs through the real engine.
//
// It runs a program the way upstream does: `go build` in the program's directory (Go's build cache makes
// every build after the first quick), then the binary, which the Go SDK's pulumi.Run connects to the engine
// through PULUMI_* variables. The runtime option `binary` names a prebuilt program instead. It installs no
// dependencies (`pulumi install` succeeds without touching go.mod: `go build` downloads what is missing).
// SDKs (`pulumi package gen-sdk --language go`) and programs (`pulumi import`) come from pkg/v3/codegen/go.
// `pulumi package add` links a generated SDK as upstream's host does: a `replace` line in go.mod.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mypos-pulumi/tools/pulumi/internal/host"
)

func main() {
	host.ServeRuntime(func(base host.Base) pulumirpc.LanguageRuntimeServer { return &goHost{Base: base} })
}

type goHost struct {
	host.Base
}

func (h *goHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	program, cleanup, err := programBinary(ctx, req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	defer cleanup()
	env, err := host.ConfigEnvironment(req)
	if err != nil {
		return nil, err
	}

	cmd := exec.CommandContext(ctx, program, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(append(os.Environ(), env...), h.sdkEnvironment(req)...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	return host.RunProgram(cmd, "the Go program"), nil
}

// sdkEnvironment is how the Go SDK's pulumi.Run learns where the engine is and what to deploy: PULUMI_MONITOR,
// PULUMI_DRY_RUN and so on. The working directory it gets as the process's own.
func (h *goHost) sdkEnvironment(req *pulumirpc.RunRequest) []string {
	var env []string
	for _, s := range host.RunSettings(req, h.EngineAddress) {
		if s.Name != "pwd" {
			env = append(env, "PULUMI_"+strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))+"="+s.Value)
		}
	}
	return env
}

// programBinary is the prebuilt binary the runtime option `binary` names, or a fresh `go build` of the
// program in a temporary directory that cleanup removes.
func programBinary(ctx context.Context, info *pulumirpc.ProgramInfo) (path string, cleanup func(), err error) {
	programDir := info.GetProgramDirectory()
	if binary, ok := host.Options(info)["binary"].(string); ok && binary != "" {
		if !filepath.IsAbs(binary) {
			binary = filepath.Join(programDir, binary)
		}
		return binary, func() {}, nil
	}

	out, err := os.MkdirTemp("", "pulumi-go-program-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(out) }
	path = filepath.Join(out, "program")
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", path, entry)
	build.Dir = programDir
	build.Stdout = os.Stderr
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building the Go program in %s failed (go build's messages are above): %w",
			programDir, err)
	}
	return path, cleanup, nil
}

// GetRequiredPackages reports the provider plugins of the generated SDKs the program imports: every package
// the program depends on whose directory holds a pulumi-plugin.json declaring a resource plugin, as
// upstream's host does.
func (h *goHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	dirs, err := dependencyDirectories(ctx, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	for _, dir := range dirs {
		meta, err := plugin.LoadPulumiPluginJSON(filepath.Join(dir, "pulumi-plugin.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if dependency := host.ResourcePackage(*meta, ""); dependency != nil {
			packages = append(packages, dependency)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// dependencyDirectories lists the directories of the non-standard packages the program builds from.
func dependencyDirectories(ctx context.Context, programDir string) ([]string, error) {
	list := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./...")
	list.Dir = programDir
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w: %s", programDir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.Fields(string(out)), nil
}

func (h *goHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return host.AboutExecutable(ctx, "go", "env", "GOVERSION")
}

func (h *goHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	if len(req.GetExtraFiles()) > 0 {
		return nil, errors.New("extra files (overlays) are not supported for Go SDKs")
	}
	return host.GeneratePackage(req, func(pkg *schema.Package, _ schema.ReferenceLoader) (map[string][]byte, error) {
		return gogen.GeneratePackage("pulumi-language-go", pkg, req.GetLocalDependencies())
	})
}

func (h *goHost) GenerateProgram(
	_ context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	return host.GenerateProgram(req, gogen.GenerateProgram)
}

// pulumiSDKModule is the Go SDK's module, which a LinkRequest names as the package "pulumi".
const pulumiSDKModule = "github.com/pulumi/pulumi/sdk/v3"

// Link makes generated SDKs dependencies of the program (`pulumi package add`), as upstream's host does: a
// `replace` line in go.mod points each SDK's module at its directory. It answers the import block the CLI
// prints as the next step; the module's `require` line comes from `go mod tidy` (or `go get`) once the program
// imports it. The module and import paths are those the Go generator wrote into the SDK (ModuleAndImportPath,
// which honours the schema's importBasePath); `pulumi package add` always generates a module (SupportPack).
func (h *goHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	return host.Link(ctx, req, "go", gogen.Importer, func(packages []host.LinkedPackage, pulumiSDK string) (string, error) {
		replacements := map[string]string{} // module path -> the SDK's directory
		if pulumiSDK != "" {
			replacements[pulumiSDKModule] = pulumiSDK
		}
		var imports strings.Builder
		for _, linked := range packages {
			modulePath, importPath, err := gogen.ModuleAndImportPath(linked.Package)
			if err != nil {
				return "", err
			}
			replacements[modulePath] = linked.Path
			fmt.Fprintf(&imports, "    %q\n", importPath)
		}
		if err := addReplacements(filepath.Join(req.GetInfo().GetProgramDirectory(), "go.mod"), replacements); err != nil {
			return "", err
		}
		sdks := "SDK"
		if len(packages) > 1 {
			sdks = "SDKs"
		}
		return fmt.Sprintf("You can import the %s in your Go code with:\n\n  import (\n%s  )\n", sdks, imports.String()), nil
	})
}

// addReplacements writes `replace MODULE => ./DIR` for each module into the go.mod file, keeping its mode. A
// relative directory must start with ./ to be read as a path (https://go.dev/ref/mod#go-mod-file-replace).
func addReplacements(gomodPath string, replacements map[string]string) error {
	stat, err := os.Stat(gomodPath)
	if err != nil {
		return fmt.Errorf("the program has no go.mod: %w", err)
	}
	content, err := os.ReadFile(gomodPath)
	if err != nil {
		return err
	}
	gomod, err := modfile.Parse(gomodPath, content, nil)
	if err != nil {
		return fmt.Errorf("parsing go.mod: %w", err)
	}
	for modulePath, dir := range replacements {
		if !filepath.IsAbs(dir) && !strings.HasPrefix(dir, "."+string(filepath.Separator)) {
			dir = "." + string(filepath.Separator) + dir
		}
		if err := gomod.AddReplace(modulePath, "", dir, ""); err != nil {
			return fmt.Errorf("adding the replace line of %s: %w", modulePath, err)
		}
	}
	formatted, err := gomod.Format()
	if err != nil {
		return fmt.Errorf("formatting go.mod: %w", err)
	}
	return os.WriteFile(gomodPath, formatted, stat.Mode().Perm())
}
