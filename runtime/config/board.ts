import type { Sys } from "../host/sys.ts";
import { resolvePath } from "../paths.ts";
import { type Config, mergeConfigs, parseConfig } from "./parse.ts";

/** /etc/config (the board's) merged with /etc/config.user (the owner's), as Heads does. */
export function readBoardConfig(sys: Sys, root: string): Config {
  const parts: Config[] = [];
  for (const name of ["/etc/config", "/etc/config.user"]) {
    const path = resolvePath(root, name);
    if (sys.stat(path)) parts.push(parseConfig(sys.readText(path), name));
  }
  return mergeConfigs(...parts);
}
