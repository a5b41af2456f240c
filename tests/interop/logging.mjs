// Sends Fedify's own log records to stderr, so a failing interop test can show why Fedify
// refused something (stdout stays free for the scripts' machine-readable output).
import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getTextFormatter } from "@logtape/logtape";

const format = getTextFormatter();

export async function logFedifyToStderr(level = "debug") {
  await configure({
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { stderr: (record) => process.stderr.write(format(record)) },
    loggers: [
      { category: "fedify", lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
