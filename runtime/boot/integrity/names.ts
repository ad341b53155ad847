// Which /boot names bootward will hash and sign. Heads refuses to sign a /boot whose file
// names hold control characters, a backslash or bytes ≥ 0x7f: sha256sum escapes such names
// (a leading "\" on the line), so the lists would no longer be plain `<hex>  <path>` lines,
// and a name holding a newline could forge a second line. A name that was not valid UTF-8
// arrives here holding U+FFFD, which is ≥ 0x7f, so it is refused too.

export class BootNameError extends Error {
  override readonly name = "BootNameError";
  constructor(readonly path: string, readonly why: string) {
    super(`/boot cannot be signed: ${JSON.stringify(path)} ${why}; rename or remove it (Heads refuses it too)`);
  }
}

/** The reason a path component is refused, or null when Heads would accept it. */
export function nameProblem(name: string): string | null {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20) return "holds a control character";
    if (c === 0x5c) return "holds a backslash";
    if (c >= 0x7f) return "holds a byte that is not printable ASCII (or is not valid UTF-8)";
  }
  return null;
}

export function checkName(path: string, name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new BootNameError(path, problem);
}

/** Heads' `find ./ … ! -path './kexec*'`: the fnmatch `*` crosses "/", so anything below such a name goes too. */
export function isKexecPath(rel: string): boolean {
  return rel.startsWith("./kexec");
}

/** Byte order of ASCII strings (what `LC_ALL=C sort` and bash globbing in the C locale give). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
