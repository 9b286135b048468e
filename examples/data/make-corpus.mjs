#!/usr/bin/env node
// Writes examples/data/corpus.txt: invented prose for the word-count example.
// Every word is made up from syllables by a seeded generator, so the text is
// the same on every run and free of anyone's copyright.
//   node examples/data/make-corpus.mjs [output file] [target bytes]
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const output = process.argv[2] ?? path.join(here, "corpus.txt");
const targetBytes = Number(process.argv[3] ?? 400_000);

/** mulberry32: a small seeded generator of floats in [0, 1). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(20_241_125);
const pick = (items) => items[Math.floor(rand() * items.length)];

const ONSETS = [
  "b",
  "br",
  "c",
  "d",
  "f",
  "g",
  "h",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "st",
  "t",
  "th",
  "v",
  "w",
  "z",
];
const VOWELS = ["a", "e", "i", "o", "u", "ae", "ei", "ou"];
const CODAS = ["", "", "", "n", "r", "l", "s", "th", "m", "nd"];

/** A made-up word of 1 to 3 syllables. */
function inventWord() {
  const syllables = 1 + Math.floor(rand() * 3);
  let word = "";
  for (let i = 0; i < syllables; i++) word += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
  return word;
}

/** A vocabulary of distinct invented words. */
function vocabulary(size) {
  const words = new Set();
  while (words.size < size) words.add(inventWord());
  return [...words];
}

// A few short function words used often, then a long tail (Zipf-like: the
// word at rank r is drawn with probability proportional to 1 / (r + 1)).
const common = ["the", "a", "of", "and", "to", "in", "was", "it", "her", "his", "by", "on"];
const words = [...common, ...vocabulary(6000).filter((w) => !common.includes(w))];
const weights = words.map((_, r) => 1 / (r + 1));
const cumulative = [];
let total = 0;
for (const w of weights) cumulative.push((total += w));

function zipfWord() {
  const x = rand() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return words[lo];
}

function sentence() {
  const length = 4 + Math.floor(rand() * 14);
  const parts = [];
  for (let i = 0; i < length; i++) {
    let w = zipfWord();
    if (i === 0) w = w[0].toUpperCase() + w.slice(1);
    if (i > 2 && i < length - 2 && rand() < 0.08) w += ",";
    parts.push(w);
  }
  return parts.join(" ") + pick([".", ".", ".", "!", "?", ";"]);
}

/** Wraps a paragraph's text at 72 columns. */
function wrap(text) {
  const lines = [];
  let line = "";
  for (const w of text.split(" ")) {
    if (line && line.length + 1 + w.length > 72) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

const out = [];
let bytes = 0;
let chapter = 0;
while (bytes < targetBytes) {
  if (out.length === 0 || rand() < 0.04) {
    const title = `Chapter ${++chapter}: ${inventWord()} ${inventWord()}`;
    out.push(title, "");
    bytes += title.length + 2;
  }
  const sentences = Array.from({ length: 3 + Math.floor(rand() * 6) }, sentence);
  for (const line of wrap(sentences.join(" "))) {
    out.push(line);
    bytes += line.length + 1;
  }
  out.push("");
  bytes += 1;
}
const text = out.join("\n");
fs.writeFileSync(output, text);
console.log(`wrote ${output}: ${text.length} bytes, ${chapter} chapters`);
