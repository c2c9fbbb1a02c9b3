package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// The stack's configuration does not fit in the environment of execve: Linux
// limits each environment string to 128 KiB (MAX_ARG_STRLEN), and a stack file
// can hold far more (a validrcptto list of 20,000 addresses already fails with
// E2BIG, "argument list too long"). So the host writes the variables that carry
// it to a private file and starts node with preload.js, which sets them in
// process.env (no size limit there) before @pulumi/pulumi reads them.

//go:embed preload.js
var preloadScript []byte

// envFileVariable names, in the program's environment, the file preload.js reads.
const envFileVariable = "QMAIL_FLEET_LANGHOST_ENV_FILE"

// programFiles is a private directory holding, for one run of the program,
// the preload script and the variables it sets.
type programFiles struct {
	dir     string
	preload string
	envFile string
}

// writeProgramFiles makes a new directory under baseDir that only the user can
// enter (0700) and writes into it preload.js and the variables as one JSON
// object in a file only the user can read (0600). The variables hold decrypted
// secrets: the caller removes the directory when the program has exited.
// Paths are free of symbolic links, so that preload.js knows its own path.
func writeProgramFiles(baseDir string, variables map[string]string) (_ *programFiles, err error) {
	made, err := os.MkdirTemp(baseDir, "qmail-fleet-langhost-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(made)
		}
	}()
	if err := os.Chmod(made, 0o700); err != nil {
		return nil, err
	}
	dir, err := filepath.EvalSymlinks(made)
	if err != nil {
		return nil, err
	}
	files := &programFiles{
		dir:     dir,
		preload: filepath.Join(dir, "preload.js"),
		envFile: filepath.Join(dir, "env.json"),
	}
	content, err := json.Marshal(variables)
	if err != nil {
		return nil, err
	}
	if err := writePrivateFile(files.envFile, content); err != nil {
		return nil, err
	}
	if err := writePrivateFile(files.preload, preloadScript); err != nil {
		return nil, err
	}
	return files, nil
}

// writePrivateFile writes a new file that only the user can read and write.
func writePrivateFile(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if err == nil {
		// The umask may only take bits away; say exactly what is meant.
		err = f.Chmod(0o600)
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

func (f *programFiles) remove() error {
	return os.RemoveAll(f.dir)
}

// privateBaseDir is where the program files go: $XDG_RUNTIME_DIR (private to
// the user, in memory) when it is set and exists, otherwise the temp directory.
func privateBaseDir() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			return dir
		}
	}
	return os.TempDir()
}

// liveProgramFiles are the directories of the programs running now, removed
// by the signal handler when the engine stops the host with a program running.
type liveProgramFiles struct {
	mu    sync.Mutex
	files map[*programFiles]struct{}
}

func (l *liveProgramFiles) create(variables map[string]string) (*programFiles, error) {
	files, err := writeProgramFiles(privateBaseDir(), variables)
	if err != nil {
		return nil, fmt.Errorf("cannot write the program's configuration: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil {
		l.files = map[*programFiles]struct{}{}
	}
	l.files[files] = struct{}{}
	return files, nil
}

func (l *liveProgramFiles) release(files *programFiles) {
	l.mu.Lock()
	delete(l.files, files)
	l.mu.Unlock()
	if err := files.remove(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: cannot remove %s: %v\n", files.dir, err)
	}
}

func (l *liveProgramFiles) removeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for files := range l.files {
		_ = files.remove()
		delete(l.files, files)
	}
}
