// Build steps stop with one sentence saying what went wrong and how to fix it; the
// driver prints `message` alone, so no stack dump reaches the user.
export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

/** What the system says when a write fails, and what the user can do about it. */
const SYSTEM_FIXES: Readonly<Record<string, string>> = {
  ENOSPC: "the disk is full; free some space and run the build again",
  EDQUOT: "the disk quota is used up; free some space and run the build again",
  EROFS: "the file system is read-only; build in a writable checkout",
  EACCES: "permission denied; check who owns the checkout's dist/, .build/ and .cache/",
  EPERM: "permission denied; check who owns the checkout's dist/, .build/ and .cache/",
};

/**
 * One line for any error that ends a build: a BuildError (or another module's typed error)
 * as written; a system error from any step as what failed and how to fix it, since a full
 * disk can strike wherever the build happens to be writing.
 */
export function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, path, dest } = error as NodeJS.ErrnoException & { dest?: string };
  const fix = code === undefined ? undefined : SYSTEM_FIXES[code];
  // A failed copy names its source in `path`; the file that could not be written is `dest`.
  if (fix !== undefined) return `Writing ${dest ?? path ?? "a build file"} failed: ${fix}.`;
  return error.message.split("\n")[0]!;
}
