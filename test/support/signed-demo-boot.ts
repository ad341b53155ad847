// A signed demo /boot for the QEMU board and its tampered variants. The demo tree (the Debian
// kernel and the demo OS, as the board's demo disk holds them) is signed on the host with an
// in-memory key, and the rollback counter lives in a swtpm state that the board boots with
// afterwards, so the firmware sees the counter the host moved. The owner's public key reaches
// the firmware as Heads' ROM keyring does: /.gnupg/pubring.asc in the initramfs, here as a
// second cpio archive after the built one (the kernel unpacks concatenated archives in turn).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { writeCpio, type CpioEntry } from "../../lib/cpio.ts";
import { DEMO_OS_POWEROFF_PARAM, makeExt4Image, writeDemoBootTree, type DemoOptions } from "../../initrd/qemu/demo-disk.ts";
import { inMemorySigner, type Signer } from "../../gpg/sign.ts";
import { readSignedLists, signedStream, signBoot, SIGNATURE_FILE, type CheckName } from "../../runtime/boot/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { startSwtpm } from "./swtpm.ts";

const sys = createNodeSys();

export interface DemoKey {
  signer: Signer;
  publicArmored: string;
  /** Unprotected, for a test that signs in the guest from a key file. */
  secretArmored: string;
}

export async function makeDemoKey(name: string): Promise<DemoKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name, email: `${name.toLowerCase().replace(/[^a-z]+/g, "-")}@bootward.test` }],
    format: "armored",
  });
  return { signer: await inMemorySigner(privateKey), publicArmored: publicKey, secretArmored: privateKey };
}

/** What the firmware must say about a variant: null = it verifies and boots. */
export interface Expected {
  check: CheckName;
  /** The file line of the failure screen, path as in the hash lists ("./vmlinuz-…"). */
  file?: { kind: "changed" | "appeared" | "vanished"; path: string };
}

export interface Variant {
  name: string;
  tree: string;
  disk: string;
  expected: Expected | null;
}

export interface SignedDemoBoot {
  kernelRelease: string;
  /** The `append` of the signed default entry: what the kexec'd kernel's /proc/cmdline holds. */
  defaultAppend: string;
  /** The swtpm state directory (a board's stateDir/tpm2) holding the counter the good set names. */
  tpmState: string;
  owner: DemoKey;
  variants: Variant[];
}

function flipByte(path: string): void {
  const data = readFileSync(path);
  const at = data.length >> 1;
  data.writeUInt8(data.readUInt8(at) ^ 0x01, at);
  writeFileSync(path, data);
}

/**
 * The demo /boot tree at `tree` as the tests boot it: with lost+found, which every ext4 /boot
 * has (so a signed tree must list it), and the demo OS told to power off once it has booted.
 */
export async function writeTestDemoTree(tree: string, options: DemoOptions = {}): Promise<{ kernelRelease: string }> {
  mkdirSync(tree, { recursive: true });
  const { kernelRelease } = await writeDemoBootTree(tree, options);
  mkdirSync(join(tree, "lost+found"), { mode: 0o700 });
  const cfg = join(tree, "grub", "grub.cfg");
  const kernelLine = `\tlinux /vmlinuz-${kernelRelease} `;
  const grub = readFileSync(cfg, "utf8");
  if (!grub.includes(kernelLine)) throw new Error(`the demo grub.cfg has no line starting ${JSON.stringify(kernelLine)}`);
  writeFileSync(cfg, grub.replace(/^(\tlinux .*)$/m, `$1 ${DEMO_OS_POWEROFF_PARAM}`));
  return { kernelRelease };
}

/**
 * Under `dir`: the demo tree signed twice by the owner (the counter moves on between), then a
 * copy per tamper case and an ext4 image per variant. "good" is the last signed set.
 */
export async function makeSignedDemoBoot(dir: string): Promise<SignedDemoBoot> {
  const owner = await makeDemoKey("Owner");
  const stranger = await makeDemoKey("Stranger");
  const trees = join(dir, "trees");
  const good = join(trees, "good");
  const { kernelRelease } = await writeTestDemoTree(good);

  const tpmState = join(dir, "tpm-state", "tpm2");
  mkdirSync(tpmState, { recursive: true });
  const swtpm = await startSwtpm("2.0", tpmState);
  const copy = (name: string) => {
    const to = join(trees, name);
    cpSync(good, to, { recursive: true });
    return to;
  };
  try {
    await swtpm.withTpm((tpm) => signBoot(sys, { bootDir: good, signer: owner.signer, tpm, defaultIndex: 1 }));
    copy("replayed");
    await swtpm.withTpm((tpm) => signBoot(sys, { bootDir: good, signer: owner.signer, tpm, defaultIndex: 1 }));
  } finally {
    await swtpm.stop();
  }

  const variants: Omit<Variant, "disk">[] = [{ name: "good", tree: good, expected: null }];
  const kernel = `./vmlinuz-${kernelRelease}`;
  const initrd = `./initrd.img-${kernelRelease}`;
  const tamper = (name: string, expected: Expected, change: (tree: string) => void | Promise<void>) => async () => {
    const tree = copy(name);
    await change(tree);
    variants.push({ name, tree, expected });
  };
  for (const make of [
    tamper("kernel-byte", { check: "hashes", file: { kind: "changed", path: kernel } }, (t) => flipByte(join(t, kernel))),
    tamper("file-added", { check: "hashes", file: { kind: "appeared", path: "./injected" } }, (t) => writeFileSync(join(t, "injected"), "not signed\n")),
    tamper("file-removed", { check: "hashes", file: { kind: "vanished", path: initrd } }, (t) => rmSync(join(t, initrd))),
    tamper("grub-edited", { check: "hashes", file: { kind: "changed", path: "./grub/grub.cfg" } }, (t) => {
      const p = join(t, "grub", "grub.cfg");
      writeFileSync(p, readFileSync(p, "utf8").replace(/^(\tlinux .*)$/m, "$1 init=/bin/sh"));
    }),
    // Everything as the owner signed it, only the signature over the same lists is another key's.
    tamper("other-key", { check: "signature" }, async (t) => {
      writeFileSync(join(t, SIGNATURE_FILE), await stranger.signer.signDetached(signedStream(readSignedLists(sys, t))));
    }),
  ]) await make();
  variants.push({ name: "replayed", tree: join(trees, "replayed"), expected: { check: "rollback" } });

  const defaultList = readSignedLists(sys, good);
  const defaultLine = new TextDecoder().decode(defaultList.get("kexec_default.1.txt")).trimEnd();
  const append = /\|append (.*)$/.exec(defaultLine);
  if (append === null) throw new Error(`the signed default entry has no append part: ${defaultLine}`);

  return {
    kernelRelease,
    defaultAppend: append[1]!,
    tpmState,
    owner,
    variants: variants.map((v) => ({ ...v, disk: makeExt4Image({ tree: v.tree, outFile: join(dir, "disks", `${v.name}.img`) }).path })),
  };
}

/**
 * `base` followed by an uncompressed newc archive holding /.gnupg/pubring.asc (and `extra`), written to
 * `outFile`. The kernel only looks for the next archive at a 4-byte boundary, hence the padding.
 */
export function initramfsWithKeyring(base: string, publicArmored: string, outFile: string, extra: CpioEntry[] = []): string {
  const first = readFileSync(base);
  const pad = Buffer.alloc((4 - (first.length % 4)) % 4);
  const keyring = writeCpio([
    { type: "dir", path: ".gnupg", mode: 0o700 },
    { type: "file", path: ".gnupg/pubring.asc", mode: 0o600, data: new TextEncoder().encode(publicArmored) },
    ...extra,
  ]);
  writeFileSync(outFile, Buffer.concat([first, pad, keyring]));
  return outFile;
}
