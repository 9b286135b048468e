// Side-input join: each order is joined with the customers table, which every
// worker reads whole as a multimap side input (customer id → records).
//   npx firefly run examples/side-input-join.mjs [--output=PREFIX]
// Output lines: `<order id> <customer name> (<city>) <item> <price>`.
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const output = p.options.output ?? "out/side-input-join";

const customers = p.create(
  [
    { key: "c1", value: { name: "Ana Lima", city: "Lisbon" } },
    { key: "c2", value: { name: "Ben Okafor", city: "Lagos" } },
    { key: "c3", value: { name: "Chloe Martin", city: "Lyon" } },
    { key: "c4", value: { name: "Dai Wei", city: "Dalian" } },
  ],
  { name: "Customers", coder: kv("string", "json") },
);

const orders = p.create(
  [
    { id: "o1", customer: "c1", item: "tea", cents: 350 },
    { id: "o2", customer: "c2", item: "book", cents: 1299 },
    { id: "o3", customer: "c1", item: "lamp", cents: 2450 },
    { id: "o4", customer: "c3", item: "pen", cents: 199 },
    { id: "o5", customer: "c9", item: "map", cents: 800 },
    { id: "o6", customer: "c2", item: "tea", cents: 350 },
  ],
  { name: "Orders" },
);

orders
  .parDo(
    {
      async process(order, ctx) {
        const customers = await ctx.sideInput("customers"); // a multimap: get(key) → values
        const [customer] = await customers.get(order.customer);
        const who = customer
          ? `${customer.name} (${customer.city})`
          : `unknown customer ${order.customer}`;
        return [`${order.id} ${who} ${order.item} ${(order.cents / 100).toFixed(2)}`];
      },
    },
    { name: "JoinCustomers", coder: "string", sideInputs: { customers: customers.asMultimap() } },
  )
  .writeText(output);

await p.run();
