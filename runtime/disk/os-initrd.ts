// Files read out of an OS initrd, as Heads' unpack_initramfs.sh does for kexec-save-default:
// zero or more uncompressed newc archives (early microcode, firmware), then one compressed
// archive holding the rest. Debian 12's mkinitramfs compresses with zstd by default, which
// busybox cannot read, so zstd is decoded in JS (fzstd); gzip, xz and lzma go to busybox.
// Used only while setting the disk key up, never on the boot path, so a slow decode costs a
// few seconds once and not at every power-on.
import { decompress as zstdDecompress } from "fzstd";
import type { Sys } from "../host/sys.ts";
import { CpioError, readCpio, type CpioFile } from "../../lib/cpio.ts";

export class OsInitrdError extends Error {
  override readonly name = "OsInitrdError";
}

type Compression = { name: string; magic: number[]; argv?: string[] };

const COMPRESSIONS: Compression[] = [
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: "gzip", magic: [0x1f, 0x8b], argv: ["gunzip", "-c"] },
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], argv: ["unxz", "-c"] },
  { name: "lzma", magic: [0x5d, 0x00, 0x00], argv: ["unlzma", "-c"] },
];
// Formats the kernel accepts that bootward does not read: named, so the owner knows why.
const UNREAD: Compression[] = [
  { name: "bzip2", magic: [0x42, 0x5a, 0x68] },
  { name: "lz4", magic: [0x02, 0x21, 0x4c, 0x18] },
  { name: "lzop", magic: [0x89, 0x4c, 0x5a, 0x4f] },
];

const NEWC = [0x30, 0x37, 0x30, 0x37, 0x30];

const startsWith = (bytes: Uint8Array, at: number, magic: number[]) => magic.every((b, i) => bytes[at + i] === b);

/** The regular files of the OS initrd that `wanted` picks, later archives overriding earlier ones as the kernel unpacks them. */
export async function osInitrdFiles(sys: Sys, path: string, wanted: (path: string) => boolean): Promise<Map<string, CpioFile>> {
  const files = new Map<string, CpioFile>();
  await readArchives(sys, path, sys.readFile(path), wanted, files, true);
  return files;
}

async function readArchives(sys: Sys, path: string, bytes: Uint8Array, wanted: (path: string) => boolean, files: Map<string, CpioFile>, outer: boolean): Promise<void> {
  let at = 0;
  for (;;) {
    while (at < bytes.length && bytes[at] === 0) at++;
    if (at >= bytes.length) return;
    if (startsWith(bytes, at, NEWC)) {
      let read;
      try {
        read = readCpio(bytes, at, wanted);
      } catch (error) {
        if (!(error instanceof CpioError)) throw error;
        throw new OsInitrdError(`The OS initrd ${path} could not be read: ${error.message}`);
      }
      for (const f of read.files) files.set(f.path, f);
      at = read.end;
      continue;
    }
    const compression = outer ? COMPRESSIONS.find((c) => startsWith(bytes, at, c.magic)) : undefined;
    if (compression === undefined) {
      const unread = UNREAD.find((c) => startsWith(bytes, at, c.magic));
      throw new OsInitrdError(
        unread
          ? `The OS initrd ${path} is compressed with ${unread.name}, which bootward cannot read; rebuild it with zstd, gzip or xz (COMPRESS= in /etc/initramfs-tools/initramfs.conf, or dracut's --zstd).`
          : `The OS initrd ${path} holds something other than a cpio archive at byte ${at}; it may be damaged.`,
      );
    }
    // A compressed archive runs to the end of the file (the kernel reads it that way too).
    await readArchives(sys, path, await decompress(sys, path, compression, bytes.subarray(at)), wanted, files, false);
    return;
  }
}

async function decompress(sys: Sys, path: string, compression: Compression, data: Uint8Array): Promise<Uint8Array> {
  if (compression.argv === undefined) {
    try {
      return zstdDecompress(data);
    } catch (error) {
      throw new OsInitrdError(`The zstd archive in the OS initrd ${path} could not be decompressed (${error instanceof Error ? error.message : String(error)}); it may be damaged.`);
    }
  }
  const result = await sys.exec(compression.argv, { input: data });
  if (result.status !== 0) {
    const why = new TextDecoder().decode(result.stderr).trim() || `exit status ${result.status}`;
    throw new OsInitrdError(`The ${compression.name} archive in the OS initrd ${path} could not be decompressed (${why}); it may be damaged.`);
  }
  return result.stdout;
}
