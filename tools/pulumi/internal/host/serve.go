// Package host holds what the project's three language hosts (cmd/pulumi-language-python, -nodejs and -go)
// share: how the engine starts and stops a host, the RPCs whose answer does not depend on the language,
// stack config handed to a program, code generation on top of pkg/v3/codegen, and linking generated SDKs
// into a program (`pulumi package add`).
//
// The hosts exist because the module proxy reachable here refuses upstream's host modules (see README,
// "Building the Pulumi CLI"); users of the provider run the official hosts.
package host

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// Serve parses the flags the engine passes to every plugin (a host defines its own flags before calling
// Serve), serves the runtime that newRuntime builds for the engine's address, prints the port the engine
// reads, and returns only by exiting the process.
// ServeRuntime is Serve for a host that needs nothing at start-up but the engine's address (in Base).
func ServeRuntime(newRuntime func(base Base) pulumirpc.LanguageRuntimeServer) {
	Serve(func(engineAddress string) (pulumirpc.LanguageRuntimeServer, error) {
		return newRuntime(Base{EngineAddress: engineAddress}), nil
	})
}

func Serve(newRuntime func(engineAddress string) (pulumirpc.LanguageRuntimeServer, error)) {
	// Some of the engine's flags are already registered by dependencies (glog registers -v and
	// -logtostderr), so define only the missing ones.
	defineFlagIfMissing("logtostderr", "false", "log to stderr")
	defineFlagIfMissing("v", "0", "log verbosity")
	defineFlagIfMissing("logflow", "false", "flow log settings to child processes")
	defineFlagIfMissing("tracing", "", "tracing endpoint (accepted, unused)")
	flag.Parse()
	verbose, _ := strconv.Atoi(flagValue("v"))
	logging.InitLogging(flagValue("logtostderr") == "true", verbose, flagValue("logflow") == "true")

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
		exitWhenEngineIsGone(engineAddress)
	}
	runtime, err := newRuntime(engineAddress)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, runtime)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start the language host: %v\n", err)
		os.Exit(1)
	}
	exitOnInterrupt()

	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host stopped: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// exitWhenEngineIsGone keeps a host from lingering as an orphan when the CLI was killed, as upstream's
// plugins do.
func exitWhenEngineIsGone(engineAddress string) {
	ctx, engineGone := context.WithCancel(context.Background())
	if err := rpcutil.Healthcheck(ctx, engineAddress, 30*time.Second, engineGone); err == nil {
		go func() {
			<-ctx.Done()
			os.Exit(0)
		}()
	}
}

// exitOnInterrupt: the engine stops plugins with SIGINT and waits a few seconds before killing them. A host
// started with SIGINT ignored (e.g. from a background job or nohup) would make every run wait that long, so
// handle the signal explicitly: Notify un-ignores it.
func exitOnInterrupt() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		os.Exit(0)
	}()
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
