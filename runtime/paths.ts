// --root DIR makes bootward treat DIR as `/`, so host tests run against fixture trees.
// Only absolute paths are re-rooted; relative ones stay relative to the working directory.
export function resolvePath(root: string, path: string): string {
  if (!path.startsWith("/") || root === "/" || root === "") return path;
  return root.replace(/\/+$/, "") + path;
}
