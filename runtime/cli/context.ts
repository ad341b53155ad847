import type { Sys } from "../host/sys.ts";

export interface GlobalOptions {
  boot?: string;
  keyring?: string;
  tpm?: string;
  json: boolean;
}

export interface CommandContext {
  sys: Sys;
  options: GlobalOptions;
  out(line: string): void;
  err(line: string): void;
}

/** Wrong arguments: the dispatcher prints the message with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A passphrase given as a file (--passphrase-file and kin), as bytes. Files written by echo
 * end with a newline that Heads' prompts never include, so trailing CR/LF are dropped.
 */
export function readPassphraseFile(ctx: CommandContext, path: string): Uint8Array {
  const bytes = ctx.sys.readFile(path);
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return bytes.subarray(0, end);
}
