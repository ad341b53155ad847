// Running a system tool the one way bootward does: an argv array, the status checked, and
// the tool's last stderr line turned into the sentence the caller's typed error carries.
import type { ExecResult, Sys } from "../host/sys.ts";

export type ErrorMaker = (message: string, result: ExecResult) => Error;

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** The last non-empty stderr line, or the exit status when the tool said nothing. */
export function toolComplaint(result: ExecResult): string {
  return decode(result.stderr).trim().split("\n").pop() || `exit status ${result.status}`;
}

/** Runs argv; a non-zero status throws `fail("<what> failed (<tool>: <complaint>)")`. Returns stdout. */
export async function runTool(sys: Sys, argv: string[], what: string, fail: ErrorMaker, input?: Uint8Array): Promise<string> {
  const result = await sys.exec(argv, input ? { input } : {});
  if (result.status !== 0) throw fail(`${what} failed (${argv[0]}: ${toolComplaint(result)})`, result);
  return decode(result.stdout);
}
