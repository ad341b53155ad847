// The boot menu freshly parsed from /boot, as kexec-select-boot builds it before it compares
// the signed default entry with line N.
import type { Sys } from "../host/sys.ts";
import { headsMenu, LIMITS, parseHeadsLine, scanBootEntries, toHeadsLine, type BootEntry, type BootFile } from "./entries/index.ts";
import type { TreeNode } from "./walk.ts";

function wanted(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf("/") + 1);
  return base === "grub.cfg" || base === "grubenv" || (/\/loader\/entries\/[^/]+\.conf$/.test(rel));
}

export function readBootConfigs(sys: Sys, bootDir: string, tree: TreeNode[]): BootFile[] {
  const files: BootFile[] = [];
  for (const n of tree) {
    if (n.kind !== "file" || !wanted(n.rel)) continue;
    const st = sys.stat(`${bootDir}/${n.rel.slice(2)}`);
    // The parsers refuse oversized input themselves; skip reading it whole.
    const text = st && st.size <= LIMITS.maxInput * 4 ? sys.readText(`${bootDir}/${n.rel.slice(2)}`) : "x".repeat(LIMITS.maxInput + 1);
    files.push({ path: n.rel.slice(1), text });
  }
  return files;
}

export interface Menu {
  entries: BootEntry[];
  /** kexec_menu.txt lines, entry i at index i. */
  lines: string[];
  warnings: string[];
}

export function scanMenu(sys: Sys, bootDir: string, tree: TreeNode[], unique = false): Menu {
  const present = new Set(tree.map((n) => n.rel.slice(1)));
  const result = scanBootEntries(readBootConfigs(sys, bootDir, tree), { exists: (p) => present.has(p) });
  const lines = headsMenu(result.entries.map(toHeadsLine), unique);
  const entries = lines.map((l, i) => parseHeadsLine(l, "kexec_menu.txt", i + 1));
  return { entries, lines, warnings: result.warnings };
}
