package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/hcl2/syntax"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// PackageGenerator is one language's SDK generator from pkg/v3/codegen, given the bound schema and the
// engine's schema loader (for packages the schema refers to).
type PackageGenerator func(pkg *schema.Package, loader schema.ReferenceLoader) (map[string][]byte, error)

// GeneratePackage answers `pulumi package gen-sdk`: it binds the request's schema with the engine's loader,
// as upstream's hosts do, and writes the generated files into the requested directory.
func GeneratePackage(
	req *pulumirpc.GeneratePackageRequest, generate PackageGenerator,
) (*pulumirpc.GeneratePackageResponse, error) {
	return withEngineLoader(req.GetLoaderTarget(), func(loader schema.ReferenceLoader) (*pulumirpc.GeneratePackageResponse, error) {
		var spec schema.PackageSpec
		if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
			return nil, fmt.Errorf("parsing the schema: %w", err)
		}
		pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
		if err != nil {
			return nil, err
		}
		response := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
		if diags.HasErrors() {
			return response, nil
		}
		files, err := generate(pkg, loader)
		if err != nil {
			return nil, err
		}
		return response, writeFiles(req.GetDirectory(), files)
	})
}

// withEngineLoader runs use with the engine's schema loader at target (the request's LoaderTarget), caching
// what it loads, as upstream's hosts use it, and closes the loader after.
func withEngineLoader[T any](target string, use func(loader schema.ReferenceLoader) (T, error)) (T, error) {
	client, err := schema.NewLoaderClient(target)
	if err != nil {
		var none T
		return none, err
	}
	defer func() { _ = client.Close() }()
	return use(schema.NewCachedLoader(client))
}

func writeFiles(directory string, files map[string][]byte) error {
	for name, data := range files {
		path := filepath.Join(directory, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("creating the directory of %s: %w", name, err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// ProgramGenerator is one language's program generator from pkg/v3/codegen.
type ProgramGenerator func(program *pcl.Program) (map[string][]byte, hcl.Diagnostics, error)

// GenerateProgram answers the engine's request to turn a PCL program into source code (what `pulumi import`
// prints): it parses and binds the PCL with the engine's schema loader, as upstream's hosts do. Every
// language host of upstream prefers the output-versioned form of invokes, so this does too.
func GenerateProgram(
	req *pulumirpc.GenerateProgramRequest, generate ProgramGenerator,
) (*pulumirpc.GenerateProgramResponse, error) {
	return withEngineLoader(req.GetLoaderTarget(), func(loader schema.ReferenceLoader) (*pulumirpc.GenerateProgramResponse, error) {
		parser := syntax.NewParser()
		for name, source := range req.GetSource() {
			if err := parser.ParseFile(strings.NewReader(source), name); err != nil {
				return nil, err
			}
			if parser.Diagnostics.HasErrors() {
				return nil, parser.Diagnostics
			}
		}
		options := []pcl.BindOption{pcl.PreferOutputVersionedInvokes}
		if !req.GetStrict() {
			options = append(options, pcl.NonStrictBindOptions()...)
		}
		program, diags, err := pcl.BindProgram(parser.Files, loader, options...)
		if err != nil {
			return nil, err
		}
		response := &pulumirpc.GenerateProgramResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
		if diags.HasErrors() {
			return response, nil
		}
		if program == nil {
			return nil, errors.New("binding the program produced no program")
		}
		files, diags, err := generate(program)
		if err != nil {
			return nil, err
		}
		response.Source = files
		response.Diagnostics = append(response.Diagnostics, plugin.HclDiagnosticsToRPCDiagnostics(diags)...)
		return response, nil
	})
}

// ResourcePackage is the provider plugin that an SDK's pulumi-plugin.json (or package.json's "pulumi"
// section) names, or nil when it names none. packageVersion stands in where the metadata has no version.
func ResourcePackage(meta plugin.PulumiPluginJSON, packageVersion string) *pulumirpc.PackageDependency {
	if !meta.Resource || meta.Name == "" {
		return nil
	}
	version := meta.Version
	if version == "" {
		version = packageVersion
	}
	if version != "" && !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	dependency := &pulumirpc.PackageDependency{Name: meta.Name, Kind: "resource", Version: version, Server: meta.Server}
	if p := meta.Parameterization; p != nil {
		dependency.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dependency
}
