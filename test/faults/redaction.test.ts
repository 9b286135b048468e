/**
 * One redaction for everything that leaves a Firefly process with pipeline
 * options in it (worker logs, the job server's GetJobs and job messages):
 * secret-looking option names, credentials in URLs, `name=value` pairs, and
 * the secret values themselves in free text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  normalizePipelineOptions,
  redactedOptions,
  redactedText,
  secretOptionValues,
} from "../../src/boot/pipeline-options.js";

const SECRET = "hunter2";

test("option values are redacted by name (api_key, apikey, private_key, passwd, auth, ...) and URL credentials", () => {
  const options = {
    db_password: SECRET,
    api_key: `${SECRET}-a`,
    apikey: `${SECRET}-b`,
    private_key: `${SECRET}-c`,
    passwd: `${SECRET}-d`,
    auth: `${SECRET}-e`,
    oauth_token: `${SECRET}-f`,
    aws_access_key_id: `${SECRET}-g`,
    client_secret: `${SECRET}-h`,
    gcp_credentials: { json: `${SECRET}-i` },
    "beam:option:db_password:v1": `${SECRET}-j`,
    db_url: `postgres://app:${SECRET}@db.internal:5432/orders`,
    experiments: ["use_runner_v2", `token=${SECRET}-k`],
    nested: { inner_api_key: `${SECRET}-l`, list: [`https://u:${SECRET}@x.example/p`] },
    job_name: "wordcount",
    runner: "portable",
    firefly_threads: 2,
  };
  const redacted = redactedOptions(options);
  const text = JSON.stringify(redacted);
  assert.ok(!text.includes(SECRET), `a secret survived: ${text}`);
  for (const key of [
    "db_password",
    "api_key",
    "apikey",
    "private_key",
    "passwd",
    "auth",
    "oauth_token",
    "aws_access_key_id",
    "client_secret",
    "gcp_credentials",
    "beam:option:db_password:v1",
  ] as const)
    assert.equal(redacted[key], "<redacted>", key);
  assert.equal(redacted.db_url, "postgres://app:<redacted>@db.internal:5432/orders");
  assert.deepEqual(redacted.experiments, ["use_runner_v2", "token=<redacted>"]);
  assert.deepEqual(redacted.nested, {
    inner_api_key: "<redacted>",
    list: ["https://u:<redacted>@x.example/p"],
  });
  assert.equal(redacted.job_name, "wordcount");
  assert.equal(redacted.runner, "portable");
  assert.equal(redacted.firefly_threads, 2);
});

test("free text: the options' secret values, URL credentials and secret name=value pairs are scrubbed", () => {
  const options = normalizePipelineOptions({
    "beam:option:db_password:v1": SECRET,
    "beam:option:job_name:v1": "job",
    options: { api_key: "sk-live-123456" },
  });
  const secrets = secretOptionValues(options);
  assert.deepEqual(secrets.sort(), [SECRET, "sk-live-123456"].sort());
  const text = redactedText(
    `login failed for ${SECRET} at mysql://root:pw123@db/x; retry with --api_key=sk-live-123456 or {"password":"p4ss"} (job)`,
    secrets,
  );
  assert.equal(
    text,
    'login failed for <redacted> at mysql://root:<redacted>@db/x; retry with --api_key=<redacted> or {"password":"<redacted>"} (job)',
  );
  assert.equal(
    redactedText("nothing secret here: job=wordcount"),
    "nothing secret here: job=wordcount",
  );
});
