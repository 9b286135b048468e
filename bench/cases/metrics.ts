/**
 * (i) The cost of the Prometheus endpoint (issue 9): case (a) on Firefly
 * (inline) with `--metrics_port` against without; `/metrics` is scraped once
 * after the run to show it was live.
 */
import * as net from "node:net";
import { result, row, type Row } from "../driver/report.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";
import { throughputOf } from "./throughput.js";

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const port = await freePort();
  const off = await throughputOf("firefly", { threads: 0 }, profile);
  let scrape = "";
  const on = await throughputOf("firefly", { threads: 0, metricsPort: port }, profile, async () => {
    scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  });
  if (!/firefly_/.test(scrape))
    throw new Error("the metrics endpoint did not answer with Firefly metrics");
  const rows: Row[] = [];
  for (const [length, measured] of on.byChain) {
    rows.push(
      row(
        "metrics",
        `${measured.elements.toLocaleString("en-US")} elements, ${length} identity ParDo(s): metrics on vs off`,
        { label: on.label, ...measured },
        { label: off.label, ...off.byChain.get(length)! },
      ),
    );
  }
  return result(rows, {
    scrapeLines: scrape.split("\n").filter((l) => l && !l.startsWith("#")).length,
  });
}
