import type { Sys } from "../host/sys.ts";
import { type Config, mergeConfigs, parseConfig } from "./parse.ts";

/** /etc/config (the board's) merged with /etc/config.user (the owner's), as Heads does. */
export function readBoardConfig(sys: Sys): Config {
  const parts: Config[] = [];
  for (const name of ["/etc/config", "/etc/config.user"]) {
    if (sys.stat(name)) parts.push(parseConfig(sys.readText(name), name));
  }
  return mergeConfigs(...parts);
}
