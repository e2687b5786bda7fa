//go:build !unix || aix || solaris

package main

// flock takes no lock on systems without flock(2) (Windows, AIX, Solaris,
// WebAssembly): there, nothing keeps a second process off the SQLite file,
// and the operator runs one at a time.
func flock(path, owner string) (release func(), holder string, err error) {
	return func() {}, "", nil
}
