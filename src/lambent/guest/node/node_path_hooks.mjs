// The NODE_PATH search of node_path.mjs as module.register() hooks, for Node 20, where
// hooks run on the loader thread and the next resolver answers asynchronously.

import { searchesNodePath } from "./node_path.mjs";

let parents = [];

export function initialize(data) {
  parents = data?.parents ?? [];
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!searchesNodePath(specifier, context, error)) throw error;
    for (const parentURL of parents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch (again) {
        if (again?.code !== "ERR_MODULE_NOT_FOUND") throw again;
      }
    }
    throw error;
  }
}
