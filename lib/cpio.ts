// A newc ("070701") cpio writer whose output depends only on the entries given: the kernel
// unpacks this format as the initramfs, and reproducible builds need the same bytes from the
// same tree whatever the host's clock, umask, user or directory listing order.
import { compareBytes, joinBytes } from "./bytes.ts";

export type CpioEntry =
  | { type: "file"; path: string; mode: number; data: Uint8Array }
  | { type: "dir"; path: string; mode: number }
  | { type: "symlink"; path: string; target: string }
  /** Only for /dev/console: the kernel opens it for init's fds 0–2 before /init runs. */
  | { type: "chardev"; path: string; mode: number; major: number; minor: number };

export class CpioError extends Error {
  override name = "CpioError";
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const IMPLIED_DIR_MODE = 0o755;
const TRAILER = "TRAILER!!!";
const encoder = new TextEncoder();

/** Checks an archive path: relative, no empty, "." or ".." components, no NUL. */
export function checkPath(path: string): void {
  if (path.length === 0) throw new CpioError("A cpio entry has an empty path; give a relative path such as bin/sh.");
  if (path.startsWith("/")) {
    throw new CpioError(`The cpio path "${path}" is absolute; give it relative to the archive root (without the leading /).`);
  }
  if (path.includes("\0")) throw new CpioError(`The cpio path ${JSON.stringify(path)} contains a NUL byte; remove it.`);
  for (const part of path.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw new CpioError(`The cpio path "${path}" has an empty, "." or ".." component; give a normalised relative path.`);
    }
  }
}

interface Member {
  path: string;
  mode: number;
  data: Uint8Array;
  rdev?: { major: number; minor: number };
}

function toRecords(entries: CpioEntry[]): Member[] {
  const byPath = new Map<string, Member>();
  const explicit = new Set<string>();
  for (const e of entries) {
    checkPath(e.path);
    if (explicit.has(e.path)) throw new CpioError(`The cpio path "${e.path}" is given twice; each path may appear once.`);
    explicit.add(e.path);
    if (e.type !== "symlink" && (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777)) {
      throw new CpioError(`The cpio entry "${e.path}" has mode ${e.mode}; give permission bits between 0 and 0o7777.`);
    }
    let rec: Member;
    if (e.type === "file") rec = { path: e.path, mode: S_IFREG | e.mode, data: e.data };
    else if (e.type === "dir") rec = { path: e.path, mode: S_IFDIR | e.mode, data: new Uint8Array(0) };
    else if (e.type === "chardev") {
      for (const n of [e.major, e.minor]) {
        if (!Number.isInteger(n) || n < 0 || n > 0xfff) throw new CpioError(`The device "${e.path}" has an invalid number ${n}; give major/minor between 0 and 4095.`);
      }
      rec = { path: e.path, mode: S_IFCHR | e.mode, data: new Uint8Array(0), rdev: { major: e.major, minor: e.minor } };
    } else {
      if (e.target.length === 0 || e.target.includes("\0")) {
        throw new CpioError(`The symlink "${e.path}" has an empty or NUL-containing target; give a real target.`);
      }
      rec = { path: e.path, mode: S_IFLNK | 0o777, data: encoder.encode(e.target) };
    }
    byPath.set(e.path, rec);
  }
  // Parents implied by a path become directories, unless they were given as something else.
  for (const path of explicit) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const known = byPath.get(parent);
      if (known === undefined) byPath.set(parent, { path: parent, mode: S_IFDIR | IMPLIED_DIR_MODE, data: new Uint8Array(0) });
      else if ((known.mode & 0o170000) !== S_IFDIR) {
        throw new CpioError(`The cpio path "${path}" lies under "${parent}", which is not a directory; fix the entry list.`);
      }
    }
  }
  // Byte order of the UTF-8 names; a parent is a prefix of its children so it always comes first.
  return [...byPath.values()].sort((a, b) => compareBytes(encoder.encode(a.path), encoder.encode(b.path)));
}

function hex8(n: number): string {
  if (n < 0 || n > 0xffffffff) throw new CpioError(`A cpio header field (${n}) does not fit in 32 bits; the entry is too large.`);
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, rec: Member, nlink: number, nameSize: number): string {
  const rdev = rec.rdev ?? { major: 0, minor: 0 };
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return "070701" + [ino, rec.mode, 0, 0, nlink, 0, rec.data.length, 0, 0, rdev.major, rdev.minor, nameSize, 0].map(hex8).join("");
}

/** The archive bytes: entries sorted by path, implied parent dirs added, uid/gid 0, mtime 0. */
export function writeCpio(entries: CpioEntry[]): Uint8Array {
  const records = toRecords(entries);
  const chunks: Uint8Array[] = [];
  const push = (bytes: Uint8Array) => chunks.push(bytes);
  const member = (ino: number, rec: Member) => {
    const name = encoder.encode(rec.path + "\0");
    const isDir = (rec.mode & 0o170000) === S_IFDIR;
    const head = encoder.encode(header(ino, rec, isDir ? 2 : 1, name.length));
    push(head);
    push(name);
    push(new Uint8Array(pad4(head.length + name.length)));
    push(rec.data);
    push(new Uint8Array(pad4(rec.data.length)));
  };
  records.forEach((rec, i) => member(i + 1, rec));
  member(0, { path: TRAILER, mode: 0, data: new Uint8Array(0) });
  return joinBytes(chunks);
}

/** A regular file read out of a newc archive. */
export interface CpioFile {
  path: string;
  mode: number;
  data: Uint8Array;
}

const HEADER_SIZE = 110;
const decoder = new TextDecoder();

/**
 * Reads one newc archive ("070701", or "070702" with checksums) starting at `offset`, up to
 * its trailer: the regular files `wanted` picks, and where the archive ends. Paths lose a
 * leading "./" or "/" (mkinitramfs and dracut archive "." relative names; the kernel treats
 * both alike). Offsets are absolute, so the 4-byte alignment the format needs counts from the
 * archive's start, as the kernel's unpacker counts it.
 */
export function readCpio(bytes: Uint8Array, offset: number, wanted: (path: string) => boolean): { files: CpioFile[]; end: number } {
  const files: CpioFile[] = [];
  const start = offset;
  let at = offset;
  const field = (i: number) => {
    const text = decoder.decode(bytes.subarray(at + 6 + i * 8, at + 14 + i * 8));
    if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new CpioError(`The cpio header at byte ${at} has a field that is not 8 hex digits; the archive is damaged.`);
    return parseInt(text, 16);
  };
  for (;;) {
    if (at + HEADER_SIZE > bytes.length) throw new CpioError(`The cpio archive that starts at byte ${start} ends before its trailer; the file is truncated.`);
    const magic = decoder.decode(bytes.subarray(at, at + 6));
    if (magic !== "070701" && magic !== "070702") throw new CpioError(`No newc cpio header at byte ${at} (found ${JSON.stringify(magic)}); the archive is damaged or not newc.`);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameEnd = at + HEADER_SIZE + nameSize;
    const dataStart = nameEnd + pad4(nameEnd - start);
    const dataEnd = dataStart + size;
    if (nameSize === 0 || dataEnd > bytes.length) throw new CpioError(`The cpio entry at byte ${at} runs past the end of the file; the archive is truncated.`);
    const name = decoder.decode(bytes.subarray(at + HEADER_SIZE, nameEnd - 1));
    at = dataEnd + pad4(dataEnd - start);
    if (name === TRAILER) return { files, end: Math.min(at, bytes.length) };
    const path = name.replace(/^(\.\/|\/)+/, "");
    if ((mode & 0o170000) === S_IFREG && path !== "" && wanted(path)) files.push({ path, mode: mode & 0o7777, data: bytes.subarray(dataStart, dataEnd) });
  }
}
