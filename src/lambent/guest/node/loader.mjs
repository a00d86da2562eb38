// Resolving the Handler setting (`dir/module.export.path`) to a function, loading the file
// as CommonJS or as an ES module the way AWS's Node.js runtime does.

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

import {
  CallbackHandlerDeprecated,
  HandlerNotFound,
  ImportModuleError,
  MalformedHandlerName,
  UserCodeSyntaxError,
} from "./errors.mjs";
import { installNodePathResolution, searchInThread } from "./node_path.mjs";

export const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const RUNTIME_DIR =
  process.env.LAMBDA_RUNTIME_DIR || path.dirname(path.dirname(new URL(import.meta.url).pathname));
// Resolution errors name this file in their "Require stack", as AWS's runtime does.
const require = createRequire(path.join(RUNTIME_DIR, "index.mjs"));

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

function hasTypeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const pj = path.join(folder, "package.json");
  if (fs.existsSync(pj)) {
    try {
      return JSON.parse(fs.readFileSync(pj)).type === "module";
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  return folder === "/" ? false : hasTypeModule(path.resolve(folder, ".."));
}

const tryRequire = (file) => (fs.existsSync(file) ? require(file) : undefined);

// Where hooks run in this thread (Node 22+) the NODE_PATH search is installed at start, so
// it also serves a CommonJS handler's import(); on Node 20 its loader thread costs ~45 ms of
// CPU, so it is started only when the handler itself is an ES module.
let nodePathSearch = false;
export function searchNodePathForImports(onlyIfCheap) {
  if (nodePathSearch || (onlyIfCheap && !searchInThread())) return;
  nodePathSearch = true;
  installNodePathResolution();
}

const tryImport = async (file) => {
  if (!fs.existsSync(file)) return undefined;
  searchNodePathForImports(false);
  return await import(file);
};

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequire(base);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(base + ".js") && hasTypeModule(path.dirname(base + ".js"));
  if (!esm) {
    const cjs = tryRequire(base + ".js");
    if (cjs) return cjs;
  }
  const loaded =
    (esm && (await tryImport(base + ".js"))) ||
    (await tryImport(base + ".mjs")) ||
    tryRequire(base + ".cjs");
  if (loaded) return loaded;
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

export async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes("..")) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) throw new MalformedHandlerName("Bad handler");
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(String(e));
    if (e?.code === "MODULE_NOT_FOUND") throw new ImportModuleError(String(e));
    throw e;
  }
  const handler = handlerPath.split(".").reduce((obj, key) => obj && obj[key], app);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== "function") throw new HandlerNotFound(`${fullHandler} is not a function`);
  refuseCallbackHandler(handler);
  return handler;
}

// Node.js 24 runtimes take only async (or streaming) handlers: one that declares the
// callback parameter fails init, with AWS's type and message.
const CALLBACKS_REMOVED_IN = 24;
const CALLBACK_REMOVED =
  "ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. " +
  "You need to modify this function to use a supported handler signature to use Node.js 24 or later. " +
  "For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.";

function refuseCallbackHandler(handler) {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= CALLBACKS_REMOVED_IN && handler.length >= 3 && !handler[STREAMING]) {
    throw new CallbackHandlerDeprecated(CALLBACK_REMOVED);
  }
}

export function installGlobals() {
  const flag = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (flag === "1" || flag === "true") return;
  globalThis.awslambda = {
    streamifyResponse: (handler) => {
      handler[STREAMING] = "response";
      return handler;
    },
    HttpResponseStream: {
      from: (stream, prelude) => {
        stream.setContentType("application/vnd.awslambda.http-integration-response");
        stream.prelude = prelude;
        return stream;
      },
    },
  };
}
