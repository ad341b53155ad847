// What a dynamic executable needs at run time (its ELF interpreter and DT_NEEDED sonames),
// resolved only inside extracted Debian package trees: the host's own /lib must never leak
// into the initramfs.

import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { toolPath } from "./host-tools.ts";

export class ElfError extends Error {
  override name = "ElfError";
}

export interface ElfDeps {
  interpreter: string | null;
  needed: string[];
}

/** Multiarch library dirs, in the order Debian's ld.so searches them. */
export const LIBRARY_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib"];

export function elfDeps(file: string): ElfDeps {
  let dynamic: string;
  let program: string;
  try {
    const readelf = toolPath("readelf");
    dynamic = execFileSync(readelf, ["-d", "-W", file], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
    program = execFileSync(readelf, ["-l", "-W", file], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  } catch {
    throw new ElfError(`readelf could not read ${file}; check that it is an ELF file from the extracted package.`);
  }
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
  const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(program);
  return { interpreter: interp ? interp[1]! : null, needed };
}

/** Follows symlinks of `rel` inside `root` (absolute targets are taken relative to root). */
export function resolveInTree(root: string, rel: string): string | null {
  let current = rel.replace(/^\/+/, "");
  for (let hops = 0; hops < 40; hops++) {
    const full = join(root, current);
    if (!existsSync(full) && !isLink(full)) return null;
    if (!isLink(full)) return current;
    const target = readlinkSync(full);
    current = target.startsWith("/") ? target.replace(/^\/+/, "") : posix.normalize(posix.join(posix.dirname(current), target));
    if (current.startsWith("..")) return null;
  }
  throw new ElfError(`Too many symlink hops resolving ${rel} in ${root}; the package tree has a loop.`);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface ResolvedLibrary {
  soname: string;
  /** Which tree (package) it came from. */
  tree: string;
  /** The real file inside the tree, relative to it. */
  file: string;
}

/**
 * The transitive closure of shared libraries the executables need, each found in one of the
 * trees. A soname that no tree provides is an error naming the executable that wanted it.
 */
export function resolveLibraries(executables: string[], trees: string[]): ResolvedLibrary[] {
  const found = new Map<string, ResolvedLibrary>();
  const queue: { soname: string; wantedBy: string }[] = [];
  const enqueue = (file: string) => {
    const deps = elfDeps(file);
    for (const soname of deps.needed) queue.push({ soname, wantedBy: file });
    if (deps.interpreter !== null) queue.push({ soname: posix.basename(deps.interpreter), wantedBy: file });
  };
  executables.forEach(enqueue);
  while (queue.length > 0) {
    const { soname, wantedBy } = queue.shift()!;
    if (found.has(soname)) continue;
    const hit = locate(soname, trees);
    if (hit === null) {
      throw new ElfError(`No pinned Debian package provides ${soname} (needed by ${wantedBy}); add its package by refreshing the lock.`);
    }
    found.set(soname, hit);
    enqueue(join(hit.tree, hit.file));
  }
  return [...found.values()].sort((a, b) => (a.soname < b.soname ? -1 : a.soname > b.soname ? 1 : 0));
}

function locate(soname: string, trees: string[]): ResolvedLibrary | null {
  for (const tree of trees) {
    for (const dir of LIBRARY_DIRS) {
      const file = resolveInTree(tree, join(dir, soname));
      if (file !== null) return { soname, tree, file };
    }
  }
  return null;
}

