// Heads keeps configuration as shell assignments (`export CONFIG_X="value"` or
// `CONFIG_X=value`) that its scripts source. bootward reads the same files without a shell:
// only plain assignments are understood; anything else is reported, never executed.

export type Config = Record<string, string>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

const assignment = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

export function parseConfig(text: string, source = "config"): Config {
  const config: Config = {};
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = assignment.exec(line);
    if (!match) throw new ConfigError(`${source} line ${index + 1} is not a CONFIG assignment: ${line}`, index + 1);
    config[match[1]!] = parseValue(match[2]!, source, index + 1);
  });
  return config;
}

function parseValue(text: string, source: string, line: number): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ConfigError(`${source} line ${line}: unterminated single quote`, line);
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new ConfigError(`${source} line ${line}: unterminated double quote`, line);
        const d = text[i]!;
        if (d === '"') break;
        if (d === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) {
          out += text[i + 1];
          i += 2;
        } else {
          out += d;
          i++;
        }
      }
      i++;
    } else if (c === "#" || /\s/.test(c)) {
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Heads' combine_configs: board config first, user overrides after; later assignments win. */
export function mergeConfigs(...configs: Config[]): Config {
  return Object.assign({}, ...configs);
}
