// ES modules resolved through NODE_PATH, as AWS's nodejs18.x and later runtimes resolve them.
//
// Node itself searches NODE_PATH for require() only; an `import "@aws-sdk/client-s3"` in
// /var/task/index.mjs walks up from /var/task and never reaches the SDK the runtime provides
// in /var/runtime/node_modules, nor a layer's /opt/nodejs/node_modules. AWS's runtimes search
// the NODE_PATH directories when loading ES modules too, so a bare specifier that the normal
// resolution cannot find is looked up in each NODE_PATH directory, in order.
//
// Node 22.15+ and 24 run the hook in this thread (module.registerHooks: no cost beyond the
// hook itself); Node 20 has only module.register, whose hooks run on a loader thread
// (node_path_hooks.mjs).

import module from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

// Not relative ("./x", "../x"), not absolute ("/x"), not a URL ("node:fs", "file:///x").
const BARE = /^(?![./]|[a-zA-Z][a-zA-Z\d+.-]*:)/;

// Resolving `specifier` as if imported from a file inside `dir` finds `dir/pkg` when `dir`
// is a node_modules directory (and `dir/node_modules/pkg` otherwise), which is what a
// NODE_PATH entry means for packages.
export function nodePathParents(nodePath) {
  return (nodePath || "")
    .split(path.delimiter)
    .filter((dir) => path.isAbsolute(dir))
    .map((dir) => pathToFileURL(path.join(dir, "__lambent_node_path__.mjs")).href);
}

// Whether a failed resolution deserves the NODE_PATH search: an import (not a require(),
// which searches NODE_PATH itself) of a bare package name that was not found.
export function searchesNodePath(specifier, context, error) {
  return (
    error?.code === "ERR_MODULE_NOT_FOUND" &&
    BARE.test(specifier) &&
    (context.conditions ?? []).includes("import")
  );
}

export function resolveSync(parents, specifier, context, nextResolve) {
  try {
    return nextResolve(specifier, context);
  } catch (error) {
    if (!searchesNodePath(specifier, context, error)) throw error;
    for (const parentURL of parents) {
      try {
        return nextResolve(specifier, { ...context, parentURL });
      } catch (again) {
        if (again?.code !== "ERR_MODULE_NOT_FOUND") throw again;
      }
    }
    throw error;
  }
}

// True where the hooks run in this thread, at no cost beyond their own work.
export const searchInThread = () => typeof module.registerHooks === "function";

// Installs the search for this process; a no-op without NODE_PATH.
export function installNodePathResolution(nodePath = process.env.NODE_PATH) {
  const parents = nodePathParents(nodePath);
  if (parents.length === 0) return;
  if (searchInThread()) {
    module.registerHooks({
      resolve: (specifier, context, nextResolve) => resolveSync(parents, specifier, context, nextResolve),
    });
  } else {
    module.register("./node_path_hooks.mjs", import.meta.url, { data: { parents } });
  }
}
