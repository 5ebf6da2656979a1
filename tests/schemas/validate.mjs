// Validates custom resources against the schemas the @kubernetes-models packages generate
// from the upstream Go API types. Reads a JSON array of objects on stdin and prints a JSON
// array with one entry per object: null when valid, else the validator's message.
// Kinds without a model here print "unknown kind" so the caller can tell them apart.
import { readFileSync } from "node:fs";

const groups = {
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api/gateway.networking.k8s.io",
  "cert-manager.io": "@kubernetes-models/cert-manager/cert-manager.io",
};

const objects = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const object of objects) {
  const [group, version] = object.apiVersion.split("/");
  const base = groups[group];
  if (!base) {
    results.push("unknown kind");
    continue;
  }
  let model;
  try {
    model = (await import(`${base}/${version}/${object.kind}`))[object.kind];
  } catch {
    results.push("unknown kind");
    continue;
  }
  try {
    new model(object).validate();
    results.push(null);
  } catch (error) {
    results.push(String(error.message));
  }
}
process.stdout.write(JSON.stringify(results));
