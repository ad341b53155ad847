// Removing a directory tree through Sys: QuickJS's os.remove takes one entry at a time.
import type { Sys } from "../host/sys.ts";

/** Removes `path` and everything under it; a path that is not there is no error. Links are removed, never followed. */
export function removeTree(sys: Sys, path: string): void {
  const st = sys.stat(path);
  if (!st) return;
  if (st.kind === "dir") for (const name of sys.readdir(path)) removeTree(sys, `${path}/${name}`);
  sys.remove(path);
}
