// /tmp/secret is the one place a secret may touch a file: tmpfs, made by PID 1 (rule 5 of
// DESIGN.md). It is emptied before the recovery shell and before kexec, so that neither a
// shell user nor the next kernel finds a passphrase or a key there, not even in freed pages.
import type { Sys } from "../host/sys.ts";

export const SECRET_DIR = "/tmp/secret";

/** Overwrites in place and removes everything under /tmp/secret, keeping the directory; returns how many entries went. */
export function wipeSecretDir(sys: Sys): number {
  return wipeTree(sys, SECRET_DIR);
}

function wipeTree(sys: Sys, dir: string): number {
  if (sys.stat(dir)?.kind !== "dir") return 0;
  let removed = 0;
  for (const name of sys.readdir(dir)) {
    const path = `${dir}/${name}`;
    const kind = sys.stat(path)?.kind;
    if (kind === "dir") {
      removed += wipeTree(sys, path);
      sys.remove(path);
    } else if (kind === "file") {
      sys.wipeFile(path);
    } else {
      // A link or a node holds no secret bytes of its own; the link's target is not ours to wipe.
      sys.remove(path);
    }
    removed++;
  }
  return removed;
}
