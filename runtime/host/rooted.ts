// `--root DIR`: a Sys that treats DIR as `/`, so host tests and an operator's dry runs work on
// a fixture tree through the same code the firmware runs. Only absolute paths move under DIR;
// relative ones stay relative to the working directory, as a shell user expects of arguments.
//
// Programs started by exec do not see the re-rooting: a file path that goes into an argv goes
// through hostPath first. Devices are the kernel's, not the tree's: openDevice, openTerminal
// (a TPM given by --tpm, a tty) and the device names handed to tools (a LUKS partition, a
// mount source) pass untouched.
import type { Sys } from "./sys.ts";

export function rootedSys(sys: Sys, root: string): Sys {
  const base = root.replace(/\/+$/, "");
  if (base === "") return sys;
  const at = (path: string) => (path.startsWith("/") ? base + path : path);
  return {
    ...sys,
    hostPath: (path) => sys.hostPath(at(path)),
    readFile: (path) => sys.readFile(at(path)),
    readText: (path) => sys.readText(at(path)),
    writeFile: (path, data, mode) => sys.writeFile(at(path), data, mode),
    appendFile: (path, data) => sys.appendFile(at(path), data),
    rename: (from, to) => sys.rename(at(from), at(to)),
    remove: (path) => sys.remove(at(path)),
    wipeFile: (path) => sys.wipeFile(at(path)),
    mkdir: (path, mode) => sys.mkdir(at(path), mode),
    readdir: (path) => sys.readdir(at(path)),
    stat: (path) => sys.stat(at(path)),
    readlink: (path) => sys.readlink(at(path)),
    // The link's text is stored as given: an absolute target names a path inside the root, as it would on the firmware.
    symlink: (target, path) => sys.symlink(target, at(path)),
    sha256File: (path) => sys.sha256File(at(path)),
    exec: (argv, options) => sys.exec(argv, options?.cwd === undefined ? options : { ...options, cwd: at(options.cwd) }),
    mount: (source, target, fstype, options) => sys.mount(source, at(target), fstype, options),
  };
}
