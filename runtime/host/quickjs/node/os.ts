// `node:os`: the few constants terminal libraries read.
export const EOL = "\n";
export function platform(): string {
  return "linux";
}
export function release(): string {
  return "";
}
export function homedir(): string {
  return "/";
}
export function tmpdir(): string {
  return "/tmp";
}
export default { EOL, platform, release, homedir, tmpdir };
