// Command qmail-fleet-stackconfig reads stack files exactly as the Pulumi
// engine this project builds reads them, and prints what the engine would hand
// the program: one string per config key, with its secure and object flags.
// It is the reference the YAML parity test (test/unit/config/yaml-parity.test.ts)
// holds qmail-fleet's own reader (lib/source) to.
//
// It is built from the same go.mod as the engine (sandbox/build-stackconfig),
// so gopkg.in/yaml.v3 and the SDK's workspace and config packages are exactly
// the engine's. Secrets are left encrypted (config.NopDecrypter), as the CLI
// sees them.
//
// Usage: qmail-fleet-stackconfig FILE...
// Prints one JSON object per file, one per line, in order:
//
//	{"file": "...", "config": {"ns:name": {"value": "...", "secure": false, "object": true}}}
//	{"file": "...", "error": "..."}
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// project is the Pulumi.yaml of qmail-fleet as far as stack files care: its name.
var project = &workspace.Project{Name: tokens.PackageName("qmail-fleet")}

type entry struct {
	Value  string `json:"value"`
	Secure bool   `json:"secure"`
	Object bool   `json:"object"`
}

type result struct {
	File   string           `json:"file"`
	Config map[string]entry `json:"config,omitempty"`
	Error  string           `json:"error,omitempty"`
}

func read(path string) (res result) {
	res.File = path
	defer func() {
		// The SDK asserts with panics on some malformed input; the engine would stop there too.
		if r := recover(); r != nil {
			res.Config = nil
			res.Error = fmt.Sprintf("panic: %v", r)
		}
	}()
	stack, err := workspace.LoadProjectStack(nil, project, path)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	values, err := stack.Config.Decrypt(config.NopDecrypter)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Config = map[string]entry{}
	for key, value := range stack.Config {
		res.Config[key.String()] = entry{Value: values[key], Secure: value.Secure(), Object: value.Object()}
	}
	return res
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: qmail-fleet-stackconfig FILE...")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, path := range os.Args[1:] {
		if err := out.Encode(read(path)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
