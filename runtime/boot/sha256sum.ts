// Native hashing of /boot files: busybox `sha256sum` in the initramfs, coreutils on a host,
// always through an argv array with the names as arguments. JS only parses the output,
// strictly: one `<64 hex>  <name>` line per argument, in argument order, nothing else.
import type { Sys } from "../host/sys.ts";

export class HashToolError extends Error {
  override readonly name = "HashToolError";
}

// Far below ARG_MAX with long names, and few enough launches that the tool's start-up cost vanishes.
const BATCH = 512;
const LINE = /^([0-9a-f]{64}) {2}(.*)$/;
const SHA1_LINE = /^([0-9a-f]{40}) {2}(.*)$/;

/** Digest (lowercase hex) of each name, relative to cwd; names must not start with "-". sha1sum is for TPM 1.2's PCRs. */
export async function sha256sumFiles(sys: Sys, cwd: string, names: string[], tool = "sha256sum"): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < names.length; i += BATCH) {
    const batch = names.slice(i, i + BATCH);
    for (const n of batch) if (n.startsWith("-") || n.includes("\n")) throw new HashToolError(`refusing to hash ${JSON.stringify(n)}: it could be read as an option or a second line`);
    const result = await sys.exec([tool, ...batch], { cwd });
    if (result.status !== 0) {
      const why = new TextDecoder().decode(result.stderr).trim().split("\n")[0] ?? "";
      throw new HashToolError(`${tool} failed in ${cwd} (status ${result.status}${why ? `: ${why}` : ""}); a file of /boot is unreadable or vanished while it was hashed`);
    }
    const text = new TextDecoder().decode(result.stdout);
    const lines = text.split("\n");
    if (lines.pop() !== "" || lines.length !== batch.length) throw new HashToolError(`${tool} printed ${lines.length} lines for ${batch.length} files; its output cannot be trusted`);
    lines.forEach((line, k) => {
      const m = (tool === "sha1sum" ? SHA1_LINE : LINE).exec(line);
      if (!m || m[2] !== batch[k]) throw new HashToolError(`${tool} printed an unexpected line ${JSON.stringify(line.slice(0, 120))}`);
      out.set(batch[k]!, m[1]!);
    });
  }
  return out;
}
