// coreboot's cbfstool (Debian's coreboot-utils) as the oracle: it makes the test images and
// reads back what bootward writes.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";

ensureTools(["cbfstool", "fmaptool"]);
const CBFSTOOL = toolPath("cbfstool");
const FMAPTOOL = toolPath("fmaptool");

export type Layout = "legacy" | "fmap" | "fmap+master";

export interface PrintRow {
  name: string;
  offset: number;
  type: string;
  size: number;
  compression: string;
}

/** A scratch directory with the cbfstool calls the tests make, on files inside it. */
export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), "bootward-cbfs-"));

  path(name: string): string {
    return join(this.dir, name);
  }

  cbfstool(image: string, ...args: string[]): string {
    return execFileSync(CBFSTOOL, [this.path(image), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  /** cbfstool's verdict and message, for the cases where it is expected to refuse. */
  tryCbfstool(image: string, ...args: string[]): { status: number; stderr: string } {
    const r = spawnSync(CBFSTOOL, [this.path(image), ...args], { encoding: "utf8" });
    return { status: r.status ?? -1, stderr: r.stderr };
  }

  write(name: string, data: Uint8Array | string): string {
    writeFileSync(this.path(name), data);
    return this.path(name);
  }

  read(name: string): Uint8Array {
    return new Uint8Array(readFileSync(this.path(name)));
  }

  /**
   * A fresh image: "legacy" = master header, no FMAP (cbfstool create -m x86); "fmap" = FMAP with
   * FMAP, RW_MRC_CACHE and COREBOOT regions; "fmap+master" adds the x86 master header file.
   */
  create(image: string, layout: Layout, size: number): Uint8Array {
    if (layout === "legacy") {
      this.cbfstool(image, "create", "-m", "x86", "-s", `0x${size.toString(16)}`);
    } else {
      const hex = (n: number) => `0x${n.toString(16)}`;
      const fmd = `FLASH@${hex(2 ** 32 - size)} ${hex(size)} {\n\tBIOS@0x0 ${hex(size)} {\n\t\tFMAP@0x0 0x200\n\t\tRW_MRC_CACHE@0x200 0x200\n\t\tCOREBOOT(CBFS)@0x400 ${hex(size - 0x400)}\n\t}\n}\n`;
      this.write(`${image}.fmd`, fmd);
      execFileSync(FMAPTOOL, [this.path(`${image}.fmd`), this.path(`${image}.fmap`)], { stdio: "ignore" });
      this.cbfstool(image, "create", "-M", this.path(`${image}.fmap`));
      if (layout === "fmap+master") this.cbfstool(image, "add-master-header");
    }
    return this.read(image);
  }

  /** `cbfstool print` as rows, free space included ("(empty)"). */
  print(image: string): PrintRow[] {
    const rows: PrintRow[] = [];
    let table = false;
    for (const line of this.cbfstool(image, "print").split("\n")) {
      if (line.startsWith("Name ")) table = true;
      else if (table && line.trim() !== "") {
        const m = /^(.*?)\s+0x([0-9a-f]+)\s+(.+?)\s+(\d+)\s+(none|LZMA|LZ4)/.exec(line);
        if (!m) throw new Error(`cannot parse cbfstool print line: ${line}`);
        rows.push({ name: m[1]!, offset: parseInt(m[2]!, 16), type: m[3]!, size: Number(m[4]), compression: m[5]!.toLowerCase() });
      }
    }
    return rows;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Deterministic bytes (xorshift32), so a failure replays. */
export function pseudoRandom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return (n) => Uint8Array.from({ length: n }, () => next() & 0xff);
}
