// How the initramfs is compressed, and what its file is called. xz makes the smallest image
// (flash is what real boards lack); under QEMU's TCG, where decompressing is software running
// on emulated instructions, xz costs about 2 s of every boot. The qemu-tpm2 image (a 23.0 MiB
// cpio), medians on 2 cores loaded by a test run:
//
//          size      unpack in the     QEMU CPU to /bin/sh    to bootward's first screen
//                    guest (printk)    (rdinit=/bin/sh, 5×)   (startQemu, 6×: wall, CPU)
//   xz     6.1 MiB   1.88 s            7.06 s                 11.42 s, 10.18 s
//   zstd   7.0 MiB   0.50 s            5.66 s                 -
//   gzip   8.5 MiB   0.45 s            5.49 s                 -
//   lz4   10.0 MiB   0.21 s            5.48 s                  9.40 s,  8.53 s
//   none  23.0 MiB   0.16 s            5.21 s                  9.47 s,  8.33 s
//
// (zstd -19, gzip -9, lz4 -l -9.) Uncompressed boots as fast as lz4, so it is the other choice
// offered, for test boots: lz4, gzip and zstd each need a host tool the build does not install,
// and Node's built-in gzip (Chromium's zlib) is not canonical zlib's output, so it would not be
// a reproducible substitute. Each choice gives the same bytes from build to build.
import { execFileSync } from "node:child_process";
import { BuildError } from "../build/errors.ts";
import { toolPath } from "./host-tools.ts";

export type InitrdCompression = "xz" | "none";

interface Compressor {
  /** Added to "initramfs-<board>.cpio". */
  suffix: string;
  /** How the build's size line names it. */
  label: string;
  compress(cpio: Uint8Array): Uint8Array;
}

/** xz with a CRC32 check, as the kernel's xz decoder accepts; one thread keeps it deterministic. */
export function xzCompress(data: Uint8Array): Uint8Array {
  try {
    return execFileSync(toolPath("xz"), ["--format=xz", "--check=crc32", "-9", "--threads=1", "-c"], {
      input: data,
      maxBuffer: 1 << 30,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim().split("\n")[0];
    throw new BuildError(`xz could not compress ${data.length} bytes (${stderr || (error as Error).message.split("\n")[0]}); check that xz-utils works and memory is free.`);
  }
}

export const COMPRESSIONS: Readonly<Record<InitrdCompression, Compressor>> = {
  xz: { suffix: ".xz", label: "xz", compress: xzCompress },
  // The kernel unpacks a plain newc archive as it is.
  none: { suffix: "", label: "uncompressed", compress: (cpio) => cpio },
};

export const DEFAULT_COMPRESSION: InitrdCompression = "xz";

export function isCompression(name: string): name is InitrdCompression {
  return Object.hasOwn(COMPRESSIONS, name);
}

/** dist/'s name for a board's image: initramfs-<board>.cpio.xz for xz, the format's own suffix otherwise. */
export function initramfsFileName(board: string, compression: InitrdCompression): string {
  return `initramfs-${board}.cpio${COMPRESSIONS[compression].suffix}`;
}
