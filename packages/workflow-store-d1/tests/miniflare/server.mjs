// Starts workerd through miniflare with worker.mjs and one in-memory D1 database, prints
// "MINIFLARE_READY <url>" on stdout, and stops when stdin closes (or on SIGTERM).
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const token = process.env.D1_HARNESS_API_TOKEN;
if (!token) {
  console.error("D1_HARNESS_API_TOKEN is not set");
  process.exit(2);
}

const mf = new Miniflare({
  modules: true,
  scriptPath: fileURLToPath(new URL("./worker.mjs", import.meta.url)),
  compatibilityDate: "2025-01-01",
  bindings: { API_TOKEN: token },
  d1Databases: { DB: "tanstack-workflow-test" },
  host: "127.0.0.1",
  port: 0,
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(code);
  }
}

process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
process.stdin.on("end", () => stop(0));
process.stdin.on("close", () => stop(0));
process.stdin.resume();

try {
  const url = await mf.ready;
  process.stdout.write(`MINIFLARE_READY ${url.href}\n`);
} catch (error) {
  console.error(error);
  await stop(1);
}
