// Board definitions: what differs between the machines bootward is built for. The QEMU
// boards differ by one flag, the TPM version, so a TPM 1.2 run is one switch away.

export class BoardError extends Error {
  override name = "BoardError";
}

export interface Board {
  name: string;
  tpm: 1 | 2;
  /** Written to /etc/config in Heads' format, in this order. */
  config: ReadonlyArray<readonly [string, string]>;
  /** Kernel modules (file names without .ko) in load order, written to /etc/modules. */
  modules: readonly string[];
  /** The firmware kernel's command line; the last console= is /dev/console, here the serial line. */
  cmdline: string;
  /**
   * Carries Debian's lvm tool (Heads' CONFIG_LVM2): a disk unlock key for LUKS volumes on LVM
   * logical volumes (kexec_key_lvm.txt) needs it. About 1.1 MiB of xz with its libraries, so a
   * board whose flash is tight leaves it out, and such a key is then refused with a sentence.
   */
  lvm: boolean;
}

/** Load order matters: busybox insmod does not resolve dependencies, so each comes after what it needs. */
const QEMU_MODULES = [
  // virtio disk
  "virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk",
  // ext4 (crc32c is a run-time crypto dependency of jbd2/ext4, not a symbol one)
  "crc32c_generic", "crc16", "mbcache", "jbd2", "ext4",
  // LUKS: dm-crypt with xts, and the kernel crypto API for cryptsetup
  "dm-mod", "dm-crypt", "ecb", "xts", "af_alg", "algif_skcipher",
  // bochs framebuffer → /dev/fb0 for the menu on tty1
  "drm", "drm_kms_helper", "ttm", "drm_ttm_helper", "drm_vram_helper", "bochs",
  // USB keyboard
  "usb-common", "usbcore", "xhci-hcd", "xhci-pci", "hid", "usbhid", "hid-generic",
  // USB thumb drive (the OEM reset's key backup): SCSI disk over usb-storage; sd_mod's
  // integrity checksums need the crc algorithms loaded before it (run-time crypto dependencies)
  "scsi_common", "scsi_mod", "crct10dif_common", "crct10dif_generic", "crc-t10dif", "crc64", "crc64_rocksoft_generic",
  "crc64-rocksoft", "t10-pi", "sd_mod", "usb-storage",
  // the backup drive's public FAT partition
  "fat", "vfat", "nls_cp437", "nls_ascii",
];

function qemuBoard(tpm: 1 | 2): Board {
  const name = tpm === 2 ? "qemu-tpm2" : "qemu-tpm1";
  return {
    name,
    tpm,
    config: [
      ["CONFIG_BOARD", name],
      ["CONFIG_BOARD_NAME", `QEMU (TPM ${tpm === 2 ? "2.0" : "1.2"})`],
      ["CONFIG_BRAND_NAME", "bootward"],
      ["CONFIG_TPM", "y"],
      ["CONFIG_TPM2_TOOLS", tpm === 2 ? "y" : "n"],
      // The demo disk is one partition-less ext4 filesystem on the virtio disk.
      ["CONFIG_BOOT_DEV", "/dev/vda"],
      ["CONFIG_BOOT_KERNEL_ADD", ""],
      ["CONFIG_BOOT_KERNEL_REMOVE", ""],
      ["CONFIG_AUTO_BOOT_TIMEOUT", ""],
      // The board's flash: a ROM image file the runner attaches as a virtio disk with this serial.
      ["CONFIG_BOOTWARD_FLASH", "serial:bootward-flash"],
    ],
    modules: QEMU_MODULES,
    // panic=-1 with QEMU's -no-reboot turns a kernel panic into QEMU exiting instead of a hang.
    cmdline: "console=tty1 console=ttyS0,115200 quiet panic=-1",
    // The demo boards show every disk layout the disk key supports.
    lvm: true,
  };
}

export const BOARDS: Readonly<Record<string, Board>> = {
  "qemu-tpm2": qemuBoard(2),
  "qemu-tpm1": qemuBoard(1),
};

export const DEFAULT_BOARD = "qemu-tpm2";

export function getBoard(name: string): Board {
  const board = BOARDS[name];
  if (board === undefined) throw new BoardError(`Unknown board "${name}"; choose one of: ${Object.keys(BOARDS).join(", ")}.`);
  return board;
}

function shellQuote(value: string): string {
  if (/["\\$`\n]/.test(value)) throw new BoardError(`A board config value (${JSON.stringify(value)}) contains a character that Heads' config format cannot hold.`);
  return `"${value}"`;
}

/** /etc/config: one `export CONFIG_X="value"` line per setting, as Heads' board configs. */
export function configText(board: Board): string {
  return board.config.map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join("");
}

/** /etc/modules: one module per line, in load order. */
export function modulesText(board: Board): string {
  return board.modules.map((m) => `${m}\n`).join("");
}
