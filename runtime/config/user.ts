// Changing the owner's settings (config.user) as Heads' set_user_config does: each changed
// variable's old line goes, `export CONFIG_X="value"` is added, and the file is sorted with
// duplicates dropped. The other lines are kept as they are.
import { ConfigError, parseConfig } from "./parse.ts";

/** Characters a double-quoted value cannot hold without escapes Heads' scripts would need to undo. */
const UNQUOTABLE = /["\\$`\n]/;

export function withUserSettings(text: string, settings: Readonly<Record<string, string>>): string {
  // The old text must parse, so a broken config.user is reported instead of rewritten around.
  parseConfig(text, "config.user");
  const lines = text.split("\n").filter((line) => {
    const name = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line.trim())?.[1];
    return line.trim() !== "" && !(name !== undefined && name in settings);
  });
  for (const [name, value] of Object.entries(settings)) {
    if (!/^CONFIG_[A-Z0-9_]+$/.test(name)) throw new ConfigError(`${name} is not a CONFIG_ setting name`, 0);
    if (UNQUOTABLE.test(value)) throw new ConfigError(`the value for ${name} holds a quote, backslash, $, \` or newline, which config.user cannot store`, 0);
    lines.push(`export ${name}="${value}"`);
  }
  return [...new Set(lines)].sort().map((l) => `${l}\n`).join("");
}
