import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const prices = p.create([
  { key: "tea", value: 350 },
  { key: "pen", value: 199 },
]);
const discount = p.create([10]); // percent
const orders = p.create(["tea", "pen", "tea", "cake"]);

orders
  .parDo(
    async (item, ctx) => {
      const [price] = await (await ctx.sideInput("prices")).get(item); // multimap: get(key) → values
      const [percent] = await ctx.sideInput("discount"); // iterable: an array
      if (price === undefined) return [`${item}: not for sale`];
      return [`${item}: ${((price * (100 - percent)) / 10000).toFixed(2)}`];
    },
    {
      coder: "string",
      sideInputs: { prices: prices.asMultimap(), discount: discount.asIterable() },
    },
  )
  .writeText(p.options.output ?? "out/side-inputs");

await p.run();
