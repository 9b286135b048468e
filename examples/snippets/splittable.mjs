import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();

// Each element names a range of pages; the DoFn's restriction is the range of
// page numbers, which the runner may cut into pieces and checkpoint.
p.create([
  { book: "atlas", pages: 3 },
  { book: "diary", pages: 5 },
])
  .parDo(
    {
      initialRestriction(book) {
        return { start: 0n, stop: BigInt(book.pages) }; // built-in offset range: bigints
      },
      splitRestriction(book, range) {
        const mid = (range.start + range.stop) / 2n; // two pieces, read in parallel
        return mid > range.start
          ? [
              { start: range.start, stop: mid },
              { start: mid, stop: range.stop },
            ]
          : [range];
      },
      process(book, ctx) {
        const pages = [];
        for (
          let page = ctx.tracker.currentRestriction().start;
          ctx.tracker.tryClaim(page);
          page++
        ) {
          pages.push(`${book.book} page ${page}`);
          if (pages.length === 2) {
            ctx.resumeAfter(10); // checkpoint: the runner resumes the rest in 10 ms
            break;
          }
        }
        return pages;
      },
    },
    { coder: "string" },
  )
  .writeText(p.options.output ?? "out/splittable");

await p.run();
