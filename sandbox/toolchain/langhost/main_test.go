package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// largeConfig is a stack configuration well over Linux's 128 KiB limit on
// one environment string: 50,000 validrcptto addresses.
func largeConfig() map[string]string {
	addresses := make([]string, 50000)
	for i := range addresses {
		addresses[i] = "user" + strings.Repeat("x", i%7) + "@example.test"
	}
	value, _ := json.Marshal(map[string]any{"addresses": addresses})
	return map[string]string{
		"qmail-fleet:validRcptTo": string(value),
		"qmail-fleet:saltSecret":  "a decrypted secret",
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestWriteProgramFilesIsPrivateAndRemovable(t *testing.T) {
	base := t.TempDir()
	variables := map[string]string{"PULUMI_CONFIG": `{"a:b":"secret"}`, "PULUMI_CONFIG_SECRET_KEYS": `["a:b"]`}
	files, err := writeProgramFiles(base, variables)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(files.dir) != mustEval(t, base) {
		t.Errorf("directory %s is not under %s", files.dir, base)
	}
	if got := mode(t, files.dir); got != 0o700 {
		t.Errorf("directory mode %o, want 700", got)
	}
	for _, path := range []string{files.envFile, files.preload} {
		if filepath.Dir(path) != files.dir {
			t.Errorf("%s is not in %s", path, files.dir)
		}
		if got := mode(t, path); got != 0o600 {
			t.Errorf("%s mode %o, want 600", path, got)
		}
	}

	content, err := os.ReadFile(files.envFile)
	if err != nil {
		t.Fatal(err)
	}
	var read map[string]string
	if err := json.Unmarshal(content, &read); err != nil {
		t.Fatal(err)
	}
	if len(read) != len(variables) || read["PULUMI_CONFIG"] != variables["PULUMI_CONFIG"] ||
		read["PULUMI_CONFIG_SECRET_KEYS"] != variables["PULUMI_CONFIG_SECRET_KEYS"] {
		t.Errorf("env file holds %v, want %v", read, variables)
	}
	preload, err := os.ReadFile(files.preload)
	if err != nil {
		t.Fatal(err)
	}
	if string(preload) != string(preloadScript) || len(preload) == 0 {
		t.Error("preload.js is not the embedded script")
	}

	if err := files.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(files.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left behind (%v)", files.dir, err)
	}
}

func TestWriteProgramFilesGivesEachRunItsOwnDirectory(t *testing.T) {
	base := t.TempDir()
	one, err := writeProgramFiles(base, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := writeProgramFiles(base, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if one.dir == two.dir {
		t.Fatalf("both runs got %s", one.dir)
	}
}

func TestReleaseRemovesTheDirectory(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	var live liveProgramFiles
	files, err := live.create(map[string]string{"PULUMI_CONFIG": "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(files.dir) != mustEval(t, os.Getenv("XDG_RUNTIME_DIR")) {
		t.Errorf("%s is not under $XDG_RUNTIME_DIR", files.dir)
	}
	live.release(files)
	if _, err := os.Stat(files.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left behind (%v)", files.dir, err)
	}
	if len(live.files) != 0 {
		t.Errorf("%d directories still tracked", len(live.files))
	}
}

func TestRemoveAllRemovesEveryLiveDirectory(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	var live liveProgramFiles
	var dirs []string
	for range 3 {
		files, err := live.create(map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, files.dir)
	}
	live.removeAll()
	for _, dir := range dirs {
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (%v)", dir, err)
		}
	}
}

func TestProgramEnvironmentKeepsTheConfigOutOfTheEnvironment(t *testing.T) {
	t.Setenv("PULUMI_CONFIG", `{"stale":"value"}`)
	t.Setenv(envFileVariable, "/stale/path")
	config := largeConfig()
	env, variables, err := programEnvironment(&pulumirpc.RunRequest{
		Config:           config,
		ConfigSecretKeys: []string{"qmail-fleet:saltSecret"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range env {
		name, _, _ := strings.Cut(entry, "=")
		if name == "PULUMI_CONFIG" || name == "PULUMI_CONFIG_SECRET_KEYS" || name == envFileVariable {
			t.Errorf("environment holds %s", name)
		}
	}
	if !contains(env, "PULUMI_NODEJS_TYPESCRIPT=true") {
		t.Error("PULUMI_NODEJS_TYPESCRIPT=true missing")
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(variables["PULUMI_CONFIG"]), &got); err != nil {
		t.Fatal(err)
	}
	if got["qmail-fleet:validRcptTo"] != config["qmail-fleet:validRcptTo"] {
		t.Error("PULUMI_CONFIG does not carry the config")
	}
	if variables["PULUMI_CONFIG_SECRET_KEYS"] != `["qmail-fleet:saltSecret"]` {
		t.Errorf("PULUMI_CONFIG_SECRET_KEYS = %s", variables["PULUMI_CONFIG_SECRET_KEYS"])
	}
}

// The preload script with a real node: a configuration far larger than one
// environment string may be reaches process.env, the file is gone before the
// program runs, and node's execArgv no longer names the preload.
func TestPreloadSetsALargeConfigInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	_, variables, err := programEnvironment(&pulumirpc.RunRequest{Config: largeConfig()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(variables["PULUMI_CONFIG"]) <= 128*1024 {
		t.Fatalf("config of %d bytes is not over the limit", len(variables["PULUMI_CONFIG"]))
	}
	files, err := writeProgramFiles(t.TempDir(), variables)
	if err != nil {
		t.Fatal(err)
	}
	defer files.remove()

	program := filepath.Join(t.TempDir(), "program.js")
	script := `const fs = require("fs");
process.stdout.write(JSON.stringify({
  config: process.env.PULUMI_CONFIG,
  secretKeys: process.env.PULUMI_CONFIG_SECRET_KEYS,
  fileVariable: process.env.` + envFileVariable + ` ?? null,
  fileLeft: fs.existsSync(process.argv[2]),
  execArgv: process.execArgv,
}));`
	if err := os.WriteFile(program, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--require", files.preload, "--no-warnings", program, files.envFile)
	cmd.Env = append(os.Environ(), envFileVariable+"="+files.envFile)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Config, SecretKeys string
		FileVariable       *string
		FileLeft           bool
		ExecArgv           []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Config != variables["PULUMI_CONFIG"] || got.SecretKeys != "[]" {
		t.Error("the program does not see the config the host wrote")
	}
	if got.FileVariable != nil {
		t.Errorf("%s still set in the program: %s", envFileVariable, *got.FileVariable)
	}
	if got.FileLeft {
		t.Error("the config file is still there when the program runs")
	}
	if strings.Join(got.ExecArgv, " ") != "--no-warnings" {
		t.Errorf("execArgv %q, want only --no-warnings", got.ExecArgv)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func mustEval(t *testing.T, path string) string {
	t.Helper()
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return resolved
}
