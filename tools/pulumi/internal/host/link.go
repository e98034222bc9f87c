package host

import (
	"context"
	"fmt"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// PulumiSDKPackage is the name under which a LinkRequest may name Pulumi's own SDK: a path to link, with no
// schema behind it.
const PulumiSDKPackage = "pulumi"

// LinkedPackage is one package of a LinkRequest (`pulumi package add`): its schema, with the requesting
// language's section imported, and the directory of the SDK generated for it, relative to the program's root.
type LinkedPackage struct {
	Package *schema.Package
	Path    string
}

// Link answers the engine's request to make generated SDKs dependencies of a program, the part every host
// shares: it loads each package's schema through the engine's loader and imports the language's section of
// it (language and importer, e.g. "python" and python.Importer), as upstream's hosts do, then hands the
// packages to link, which edits the program's dependency files and returns the import instructions the CLI
// prints. pulumiSDK is the path of Pulumi's own SDK when the request names it, else "".
func Link(
	ctx context.Context, req *pulumirpc.LinkRequest, language string, importer schema.Language,
	link func(packages []LinkedPackage, pulumiSDK string) (string, error),
) (*pulumirpc.LinkResponse, error) {
	return withEngineLoader(req.GetLoaderTarget(), func(loader schema.ReferenceLoader) (*pulumirpc.LinkResponse, error) {
		var packages []LinkedPackage
		var pulumiSDK string
		for _, dependency := range req.GetPackages() {
			if dependency.GetPackage().GetName() == PulumiSDKPackage {
				pulumiSDK = dependency.GetPath()
				continue
			}
			pkg, err := loadLinkedSchema(ctx, loader, dependency.GetPackage())
			if err != nil {
				return nil, err
			}
			if err := pkg.ImportLanguages(map[string]schema.Language{language: importer}); err != nil {
				return nil, err
			}
			packages = append(packages, LinkedPackage{Package: pkg, Path: dependency.GetPath()})
		}
		instructions, err := link(packages, pulumiSDK)
		if err != nil {
			return nil, err
		}
		return &pulumirpc.LinkResponse{ImportInstructions: instructions}, nil
	})
}

// loadLinkedSchema loads the schema the engine describes by name, version, download URL and parameterization.
func loadLinkedSchema(
	ctx context.Context, loader schema.ReferenceLoader, dependency *pulumirpc.PackageDependency,
) (*schema.Package, error) {
	descriptor := &schema.PackageDescriptor{
		Name:        dependency.GetName(),
		Version:     optionalVersion(dependency.GetVersion()),
		DownloadURL: dependency.GetServer(),
	}
	if p := dependency.GetParameterization(); p != nil {
		descriptor.Parameterization = &schema.ParameterizationDescriptor{Name: p.GetName(), Value: p.GetValue()}
		if version := optionalVersion(p.GetVersion()); version != nil {
			descriptor.Parameterization.Version = *version
		}
	}
	ref, err := schema.LoadPackageReferenceV2(ctx, loader, descriptor)
	if err != nil {
		return nil, fmt.Errorf("loading the schema of %s: %w", dependency.GetName(), err)
	}
	return ref.Definition()
}

// optionalVersion is the version the engine sent, or nil where it sent none (or one that is not semver, which
// upstream's hosts treat the same way).
func optionalVersion(text string) *semver.Version {
	version, err := semver.ParseTolerant(text)
	if err != nil {
		return nil
	}
	return &version
}
