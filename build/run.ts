import { execFile } from "node:child_process";
import { BuildError } from "./errors.ts";

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program with an argv array (never a shell); a failure becomes a BuildError. */
export function run(
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string; fix?: string },
): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new BuildError(`Nothing to run for ${opts.what}.`);
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          reject(new BuildError(`${opts.what} failed: ${file} is not installed${opts.fix ? `; ${opts.fix}` : ""}.`));
          return;
        }
        const tail = stderr.trim().split("\n").slice(-1)[0] ?? "";
        // Whatever step it was, a full disk has one fix, and it is not the step's usual one.
        const fix = /No space left on device|Disk quota exceeded/.test(stderr) ? "the disk is full; free some space and run the build again" : opts.fix;
        reject(new BuildError(`${opts.what} failed (${file} exited with ${error.code ?? error.signal}${tail ? `: ${tail}` : ""})${fix ? `; ${fix}` : ""}.`));
      },
    );
  });
}
