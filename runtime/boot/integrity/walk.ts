// The /boot tree as Heads' `find ./` sees it: "./" itself, then every directory, file,
// symlink and other node below, without following symlinks. Only the set matters for
// verification; the order here is byte order of the whole path (see hashes.ts for why).
import type { Sys } from "../../host/sys.ts";
import { byteOrder, checkName, isKexecPath } from "./names.ts";
import { BootPathError, followInBoot } from "./resolve.ts";

export type NodeKind = "file" | "dir" | "symlink" | "other";

export interface TreeNode {
  /** "./" for the top, else "./rel/path" exactly as find prints it. */
  rel: string;
  kind: NodeKind;
}

export class BootSymlinkError extends Error {
  override readonly name = "BootSymlinkError";
  constructor(readonly path: string, readonly target: string) {
    super(`${path} is a symlink to ${target}, which leaves /boot; remove it (the firmware only trusts files on the boot partition)`);
  }
}

export class BootTreeError extends Error {
  override readonly name = "BootTreeError";
}

// Real /boot trees have a few hundred entries; the bound keeps a hostile tree from exhausting memory.
export const MAX_TREE_NODES = 100_000;
const MAX_DEPTH = 64;

/** Every node below bootDir except ./kexec*, checked for names Heads refuses and symlinks leaving /boot or looping. */
export function walkBoot(sys: Sys, bootDir: string): TreeNode[] {
  const top = sys.stat(bootDir);
  if (!top || top.kind !== "dir") throw new BootTreeError(`${bootDir} is not a directory; mount the boot partition there or pass --boot`);
  const nodes: TreeNode[] = [{ rel: "./", kind: "dir" }];
  const visit = (relDir: string, depth: number) => {
    if (depth > MAX_DEPTH) throw new BootTreeError(`${relDir} is nested deeper than ${MAX_DEPTH} directories; /boot is not a plausible boot partition`);
    const abs = relDir === "./" ? bootDir : `${bootDir}/${relDir.slice(2)}`;
    for (const name of sys.readdir(abs).sort(byteOrder)) {
      const rel = relDir === "./" ? `./${name}` : `${relDir}/${name}`;
      if (isKexecPath(rel)) continue;
      checkName(rel, name);
      const st = sys.stat(`${abs}/${name}`);
      if (!st) continue; // vanished while we walked; the hashes will tell
      nodes.push({ rel, kind: st.kind });
      if (nodes.length > MAX_TREE_NODES) throw new BootTreeError(`/boot holds more than ${MAX_TREE_NODES} entries; it is not a plausible boot partition`);
      if (st.kind === "symlink") {
        // Followed for real, not read as text: `self -> .` then `esc -> self/..` leaves /boot.
        try {
          followInBoot(sys, bootDir, rel);
        } catch (error) {
          if (!(error instanceof BootPathError)) throw error;
          if (error.leaves) throw new BootSymlinkError(rel, sys.readlink(`${abs}/${name}`));
          throw new BootTreeError(`${rel} cannot be followed: ${error.why}; remove it`);
        }
      } else if (st.kind === "dir") visit(rel, depth + 1);
    }
  };
  visit("./", 0);
  return nodes.sort((a, b) => byteOrder(a.rel, b.rel));
}
