// Where a /boot path really leads. kexec opens files through every symlink, so the file to
// check against the signed list is the one at the end of the chain, not the name grub.cfg
// gives: a signed "vmlinuz" may be a link into kexec_*/, which the lists never hash.
// Resolution walks the chain component by component inside /boot, so no link can climb out
// of it however it is built (`self -> .` followed by `esc -> self/..`), and a loop ends.
import type { Sys, FileStat } from "../../host/sys.ts";

export class BootPathError extends Error {
  override readonly name = "BootPathError";
  constructor(readonly path: string, readonly why: string, readonly leaves = false) {
    super(`/boot${path.slice(1)} cannot be booted: ${why}`);
  }
}

// Linux gives up after 40 links in one lookup (ELOOP); a chain longer than that is hostile.
const MAX_LINKS = 40;

export interface Followed {
  /** "./rel/path" the chain ends at. */
  rel: string;
  /** What is there; null when nothing is (a dangling link). */
  kind: FileStat["kind"] | null;
}

/** Follows every link of `rel` ("./…") inside bootDir; throws when a link leads out of it or loops. */
export function followInBoot(sys: Sys, bootDir: string, rel: string): Followed {
  const done: string[] = [];
  const todo = rel.replace(/^\.\//, "").split("/").reverse();
  let links = 0;
  let kind: FileStat["kind"] | null = "dir";
  while (todo.length > 0) {
    const part = todo.pop()!;
    if (part === "" || part === ".") continue;
    if (kind !== "dir") return { rel: `./${[...done, part, ...todo.reverse()].join("/")}`, kind: null };
    if (part === "..") {
      if (done.length === 0) throw new BootPathError(rel, "a symlink on its way leads out of /boot", true);
      done.pop();
      continue;
    }
    const here = [...done, part].join("/");
    const st = sys.stat(`${bootDir}/${here}`);
    if (st?.kind === "symlink") {
      if (++links > MAX_LINKS) throw new BootPathError(rel, `more than ${MAX_LINKS} symlinks on its way (a loop)`);
      const target = sys.readlink(`${bootDir}/${here}`);
      if (target.startsWith("/")) throw new BootPathError(rel, `./${here} links to the absolute path ${target}, outside /boot`, true);
      todo.push(...target.split("/").reverse());
      continue;
    }
    done.push(part);
    kind = st?.kind ?? null;
  }
  return { rel: `./${done.join("/")}`, kind };
}

/** "./rel/path" of the regular file that `rel` leads to inside bootDir; anything else is refused. */
export function resolveInBoot(sys: Sys, bootDir: string, rel: string): string {
  const end = followInBoot(sys, bootDir, rel);
  if (end.kind === "file") return end.rel;
  const what = end.kind === null ? "does not exist (a dangling link or a missing file)" : end.kind === "dir" ? "is a directory" : "is not a regular file (a device node, FIFO or socket)";
  throw new BootPathError(rel, `${end.rel} ${what}`);
}
