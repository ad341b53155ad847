// Real keyboxes made by GnuPG: a fresh home per keybox, public keys imported with
// `gpg --import` (which writes pubring.kbx), and optionally an X.509 certificate imported
// first with gpgsm so the keybox also holds a blob bootward must skip.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GpgHome } from "./support.ts";

export interface KeyboxOptions {
  /** Import a self-signed X.509 certificate with gpgsm before the OpenPGP keys. */
  x509?: boolean;
}

export function makeKeybox(gpg: GpgHome, fingerprints: string[], opts: KeyboxOptions = {}): Buffer {
  const home = mkdtempSync(join(tmpdir(), "bootward-kbx-"));
  chmodSync(home, 0o700);
  try {
    const run = (tool: string, args: string[], input?: Buffer) =>
      execFileSync(tool, ["--homedir", home, "--batch", ...args], { input, stdio: ["pipe", "pipe", "pipe"] });
    if (opts.x509) {
      const cert = join(home, "cert.pem");
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(home, "cert.key"), "-out", cert, "-subj", "/CN=bootward keybox test", "-days", "30"], { stdio: "pipe" });
      run("gpgsm", ["--import", cert]);
    }
    for (const fpr of fingerprints) run("gpg", ["--import"], gpg.gpg(["--export", fpr]));
    const kbx = join(home, "pubring.kbx");
    if (!existsSync(kbx)) throw new Error(`gpg --import made no ${kbx}; this GnuPG does not keep keys in a keybox`);
    return readFileSync(kbx);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Start offset and length of every blob, the header included, as the keybox records them. */
export function keyboxBlobs(kbx: Buffer): { at: number; length: number; type: number }[] {
  const out: { at: number; length: number; type: number }[] = [];
  for (let at = 0; at < kbx.length; ) {
    const length = kbx.readUInt32BE(at);
    out.push({ at, length, type: kbx[at + 4]! });
    at += length;
  }
  return out;
}

/** One hostile keybox from a real one: a header then random bytes, or 1–4 random byte edits, cuts and insertions. */
export function mutateKeybox(r: () => number, kbx: Buffer): Buffer {
  const byte = () => Math.floor(r() * 256);
  // A real header before random bytes exercises the blob walk rather than the magic check.
  if (r() < 0.25) return Buffer.concat([kbx.subarray(0, 32), Buffer.from(Array.from({ length: Math.floor(r() * 600) }, byte))]);
  let out = Buffer.from(kbx);
  for (let m = 1 + Math.floor(r() * 4); m > 0; m--) {
    const at = Math.floor(r() * out.length);
    const op = r();
    if (op < 0.5) out[at] = byte();
    else if (op < 0.75) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(r() * 64))]);
    else out = Buffer.concat([out.subarray(0, at), Buffer.from([byte()]), out.subarray(at)]);
  }
  return out;
}
