// The boot menu freshly parsed from /boot, as kexec-select-boot builds it before it compares
// the signed default entry with line N.
import type { Sys } from "../../host/sys.ts";
import { headsMenu, LIMITS, parseHeadsLine, scanBootEntries, toHeadsLine, type BootEntry, type BootFile } from "./index.ts";
import type { TreeNode } from "../integrity/walk.ts";
import { sha256 } from "../../../tpm/crypto/hash.ts";
import { toHex } from "../../../lib/bytes.ts";

/** A config file's bytes, read for parsing, are not the bytes that were hashed. */
export class BootConfigChangedError extends Error {
  override readonly name = "BootConfigChangedError";
  constructor(readonly path: string) {
    super(`.${path} changed after it was hashed; the menu is not built from it`);
  }
}

/** The digest each config file must have ("./path" → sha256 hex), when the menu is built from verified bytes. */
export type ExpectedDigest = (rel: string) => string | undefined;

function wanted(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf("/") + 1);
  return base === "grub.cfg" || base === "grubenv" || (/\/loader\/entries\/[^/]+\.conf$/.test(rel));
}

// With `expected`, each config is read once and its bytes are both hashed and parsed, so the
// entries and command lines booted come from exactly the bytes the signed list covers.
export function readBootConfigs(sys: Sys, bootDir: string, tree: TreeNode[], expected?: ExpectedDigest): BootFile[] {
  const files: BootFile[] = [];
  for (const n of tree) {
    if (n.kind !== "file" || !wanted(n.rel)) continue;
    const path = `${bootDir}/${n.rel.slice(2)}`;
    const st = sys.stat(path);
    // The parsers refuse oversized input themselves; skip reading it whole.
    if (!st || st.size > LIMITS.maxInput * 4) {
      files.push({ path: n.rel.slice(1), text: "x".repeat(LIMITS.maxInput + 1) });
      continue;
    }
    const bytes = sys.readFile(path);
    if (expected && toHex(sha256(bytes)) !== expected(n.rel)) throw new BootConfigChangedError(n.rel.slice(1));
    files.push({ path: n.rel.slice(1), text: new TextDecoder().decode(bytes) });
  }
  return files;
}

export interface Menu {
  entries: BootEntry[];
  /** kexec_menu.txt lines, entry i at index i. */
  lines: string[];
  warnings: string[];
}

export function scanMenu(sys: Sys, bootDir: string, tree: TreeNode[], unique = false, expected?: ExpectedDigest): Menu {
  const present = new Set(tree.map((n) => n.rel.slice(1)));
  const result = scanBootEntries(readBootConfigs(sys, bootDir, tree, expected), { exists: (p) => present.has(p) });
  const lines = headsMenu(result.entries.map(toHeadsLine), unique);
  const entries = lines.map((l, i) => parseHeadsLine(l, "kexec_menu.txt", i + 1));
  return { entries, lines, warnings: result.warnings };
}
