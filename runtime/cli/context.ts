import type { Sys } from "../host/sys.ts";

export interface GlobalOptions {
  /** Treat this directory as `/` (host tests on fixture trees). */
  root: string;
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
