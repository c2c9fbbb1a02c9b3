package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestPluginArgsKeepTheEngineAddressOnly(t *testing.T) {
	got := pluginArgs([]string{"--logtostderr", "-v=9", "--tracing", "127.0.0.1:40000"})
	if want := []string{"127.0.0.1:40000"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pluginArgs = %q, want %q", got, want)
	}
}

func TestFindEntryLooksInParentNodeModules(t *testing.T) {
	project := t.TempDir()
	entry := filepath.Join(project, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack")
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(entry, "index.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pack := filepath.Join(project, "policy")
	if err := os.Mkdir(pack, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := findEntry(pack, "run-policy-pack")
	if err != nil || got != entry {
		t.Errorf("findEntry = %q, %v; want %q", got, err, entry)
	}
	if _, err := findEntry(pack, "run-plugin"); err == nil {
		t.Error("findEntry found a run-plugin entry that is not installed")
	}
}
