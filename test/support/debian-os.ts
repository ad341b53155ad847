// A QEMU-board fixture whose OS is a real Debian system: a /boot signed by an in-memory owner
// key, holding the pinned kernel and Debian 12's own initramfs (initrd/os-initramfs.ts) with
// its root on the LUKS2 root disk (initrd/qemu/luks-root-disk.ts), attached as the board's OS
// disk (/dev/vdc). The disk unlock key tests start from here: bootward seals a key for that
// disk and appends the key cpio to this initramfs at kexec.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { makeExt4Image } from "../../initrd/qemu/demo-disk.ts";
import { osInitramfs } from "../../initrd/os-initramfs.ts";
import { LUKS_ROOT_CMDLINE, LUKS_ROOT_CRYPTTAB, LUKS_ROOT_SERIAL, makeLuksRootDisk } from "../../initrd/qemu/luks-root-disk.ts";
import { signBoot } from "../../runtime/boot/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { startSwtpm } from "./swtpm.ts";
import { initramfsWithKeyring, makeDemoKey, writeTestDemoTree, type DemoKey } from "./signed-demo-boot.ts";

export interface DebianOsBoot {
  /** The signed /boot tree (re-sign it with `owner` after changing it) and its ext4 image. */
  bootTree: string;
  bootDisk: string;
  /** The LUKS2 root disk, and startQemu's osDisk option for it. */
  rootDisk: string;
  osDisk: { path: string; serial: string };
  /** The Debian OS initramfs as /boot holds it (initrd.img-<release>). */
  osInitrd: string;
  kernelRelease: string;
  owner: DemoKey;
  /** The swtpm state (a board's stateDir/tpm2) holding the rollback counter /boot was signed with: copy it per board. */
  tpmState: string;
  /** The board's initramfs with the owner's key as the ROM keyring. */
  initramfs: string;
}

export interface DebianOsBootOptions {
  recoveryPassphrase: string;
  /** Keys added to the root disk beside the recovery passphrase (slots 31, 30, …). */
  extraKeys?: readonly Uint8Array[];
  /** The board's built initramfs (dist/initramfs-qemu-tpm2.cpio.xz). */
  boardInitramfs: string;
}

export async function makeDebianOsBoot(dir: string, opts: DebianOsBootOptions): Promise<DebianOsBoot> {
  mkdirSync(dir, { recursive: true });
  const os = await osInitramfs({ crypttab: [LUKS_ROOT_CRYPTTAB] });
  const bootTree = join(dir, "boot");
  const { kernelRelease } = await writeTestDemoTree(bootTree, { osInitrd: os.path, kernelArgs: LUKS_ROOT_CMDLINE });
  const owner = await makeDemoKey("Owner");
  const tpmState = join(dir, "tpm-state", "tpm2");
  mkdirSync(tpmState, { recursive: true });
  const swtpm = await startSwtpm("2.0", tpmState);
  try {
    await swtpm.withTpm((tpm) => signBoot(createNodeSys(), { bootDir: bootTree, signer: owner.signer, tpm, defaultIndex: 1 }));
  } finally {
    await swtpm.stop();
  }
  const bootDisk = makeExt4Image({ tree: bootTree, outFile: join(dir, "boot.img") }).path;
  const rootDisk = makeLuksRootDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: opts.recoveryPassphrase, extraKeys: opts.extraKeys }).path;
  return {
    bootTree,
    bootDisk,
    rootDisk,
    osDisk: { path: rootDisk, serial: LUKS_ROOT_SERIAL },
    osInitrd: join(bootTree, `initrd.img-${kernelRelease}`),
    kernelRelease,
    owner,
    tpmState,
    initramfs: initramfsWithKeyring(opts.boardInitramfs, owner.publicArmored, join(dir, "initramfs.cpio.xz")),
  };
}
